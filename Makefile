# tvm — the one entry point. Builds out of tree into $(BUILD) (build/ by default).
#
#   make                 build tvm-run and the libraries
#   make test            install missing deps, build, run every test (units, golden programs,
#                        man-page lint) and the same suites under ASan+UBSan
#   make demo            build and run the seed programs
#   make bench           benchmarks against peers (lua5.4, luajit -joff, python3)
#   make test-gpu        the GPU tests with compute-sanitizer (on a machine with an NVIDIA GPU)
#   make install PREFIX=/usr/local DESTDIR=
#   make deps            install the Debian packages the build needs (apt-get as root)
#   make clean

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SAN      ?=

CXX      ?= g++
BISON    ?= bison
FLEX     ?= flex

VERSION  := 0.1.0

# OPT and CXXFLAGS/LDFLAGS are the user's to set; the project's own flags live apart so that
# `make CXXFLAGS=...` adds to them instead of replacing them.
OPT      ?= -O2 -g
TVM_CXXFLAGS := -std=c++20 -Wall -Wextra -Wno-unused-parameter -fno-plt \
            -DTVM_VERSION='"$(VERSION)"' -Icompiler -Ivm -Ipackager -I$(BUILD)/gen -MMD -MP
TVM_LDFLAGS  :=
ifeq ($(SAN),1)
  TVM_CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  TVM_LDFLAGS  += -fsanitize=address,undefined
endif
SAN_CFLAGS   := -fsanitize=address,undefined
ALL_CXXFLAGS = $(OPT) $(TVM_CXXFLAGS) $(CXXFLAGS)
ALL_LDFLAGS  = $(TVM_LDFLAGS) $(LDFLAGS)
# OpenBLAS's own CBLAS header (the cblas.h alternative may point at the reference BLAS). The
# library itself is loaded with dlopen on the first matrix product (vm/cpu_device.cpp).
MULTIARCH   := $(shell $(CXX) -print-multiarch 2>/dev/null)
OPENBLAS_INC ?= /usr/include/$(MULTIARCH)/openblas-pthread
TVM_CXXFLAGS += -I$(OPENBLAS_INC)
LDLIBS   += -lzstd -ldl -lm

GEN      := $(BUILD)/gen
OBJ      := $(BUILD)/obj
BIN      := $(BUILD)/bin
LIB      := $(BUILD)/lib

# The runtime (libtvmrt): everything in vm/ but tvm-run's main, and the packager's reader and
# verifier (everything in packager/ but tvm-pack's main). It never depends on compiler/.
RT_SRCS     := $(filter-out vm/main.cpp,$(wildcard vm/*.cpp)) \
               $(filter-out packager/main.cpp,$(wildcard packager/*.cpp))
# The front end and back ends: compiler/*.cpp plus the generated lexer and parser.
FRONT_SRCS  := $(wildcard compiler/*.cpp)
FRONT_GEN   := $(GEN)/parser.cpp $(GEN)/lexer.cpp
UNIT_SRCS   := $(wildcard tests/unit/*.cpp)

RT_OBJS     := $(RT_SRCS:%.cpp=$(OBJ)/%.o)
# The shared runtime's objects: the same sources built position-independent.
RT_PIC_OBJS := $(RT_SRCS:%.cpp=$(BUILD)/obj-pic/%.o)
FRONT_OBJS  := $(FRONT_SRCS:%.cpp=$(OBJ)/%.o) $(OBJ)/gen/parser.o $(OBJ)/gen/lexer.o
UNIT_OBJS   := $(UNIT_SRCS:%.cpp=$(OBJ)/%.o)
MAIN_OBJ    := $(OBJ)/vm/main.o
PACK_OBJ    := $(OBJ)/packager/main.o

# The CUDA device plugin (gpu/): built whenever nvcc is found, for sm_80 and sm_90 with PTX for
# newer GPUs. Nothing links it: the runtime opens it with dlopen (vm/cuda_plugin.cpp). cudart is
# linked statically (nvcc's default); cuBLAS and cuBLASLt are found through the rpath.
NVCC        ?= $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
CUDA_HOME   ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_SRCS   := $(wildcard gpu/*.cu gpu/*.cpp)
CUDA_ARCH   ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
               -gencode arch=compute_90,code=compute_90
CUDA_PLUGIN := $(if $(and $(NVCC),$(CUDA_SRCS)),$(LIB)/libtvm_cuda.so)

STDLIB_SRCS := $(wildcard stdlib/*.tl)
STDLIB_OUT  := $(STDLIB_SRCS:stdlib/%=$(BUILD)/share/tvm/stdlib/%)
MANPAGES    := $(wildcard man/*.[1-9])

.PHONY: all test unit programs lint test-asan test-gpu demo bench install deps clean
.DELETE_ON_ERROR:

all: $(BIN)/tvm-run $(BIN)/tvm-pack $(LIB)/libtvmrt.a $(LIB)/libtvmrt.so $(STDLIB_OUT) $(CUDA_PLUGIN)

$(GEN)/parser.cpp $(GEN)/parser.hpp &: compiler/parser.y | $(GEN)
	$(BISON) -Wall -Werror -o $(GEN)/parser.cpp --header=$(GEN)/parser.hpp $<
$(GEN)/lexer.cpp: compiler/lexer.l $(GEN)/parser.hpp | $(GEN)
	$(FLEX) -o $@ $<

# Everything in compiler/ may include the generated parser header.
$(FRONT_SRCS:%.cpp=$(OBJ)/%.o) $(OBJ)/gen/lexer.o: $(GEN)/parser.hpp

$(OBJ)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -c -o $@ $<
$(BUILD)/obj-pic/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -fPIC -c -o $@ $<
$(OBJ)/gen/%.o: $(GEN)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -Wno-sign-compare -Wno-unused-function -c -o $@ $<

$(LIB)/libtvmrt.a: $(RT_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIB)/libtvmrt.so: $(RT_PIC_OBJS)
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) -shared -Wl,-soname,libtvmrt.so -o $@ $^ $(LDLIBS)
$(LIB)/libtvm_cuda.so: $(CUDA_SRCS) $(wildcard gpu/*.h gpu/*.cuh) gpu/exports.map vm/device.h vm/fused.h
	@mkdir -p $(@D)
	$(NVCC) -std=c++20 -O3 -Xcompiler -fPIC,-Wall,-Wextra,-fvisibility=hidden,-fvisibility-inlines-hidden -shared $(CUDA_ARCH) -Ivm -o $@ $(CUDA_SRCS) \
	  -lcublasLt -lcublas -Xlinker -rpath=$(CUDA_HOME)/lib64 -Xlinker --version-script=gpu/exports.map

# The fake CUDA plugin (tests/fakecuda/): the CPU device's kernels behind a Device named "cuda"
# whose memory the host cannot read, loaded with TVM_CUDA_PLUGIN to test the runtime's device
# plumbing on machines without a GPU. Test-only (not in all or install). Self-contained: the CPU
# device's sources are compiled in with hidden visibility (tvm-run exports nothing to link
# against), and with the build's flags, sanitizers included, since it is loaded into that build.
# Its few thread_locals use the initial-exec model, so they live in the static TLS block: under
# ASan, LeakSanitizer's exit-time scan of a dlopen'd library's dynamic TLS crashed (glibc 2.36,
# GCC 12: "Tracer caught signal 11" after "DTLS ... at 0x...1d4").
FAKE_CUDA      := $(LIB)/libtvm_fakecuda.so
FAKE_CUDA_SRCS := tests/fakecuda/fake_cuda.cpp vm/cpu_device.cpp vm/cpu_fused.cpp
$(FAKE_CUDA): $(FAKE_CUDA_SRCS) $(wildcard vm/*.h)
	@mkdir -p $(@D)
	$(CXX) $(filter-out -MMD -MP,$(ALL_CXXFLAGS)) -fPIC -fvisibility=hidden -ftls-model=initial-exec -shared -Wl,--no-undefined \
	  $(ALL_LDFLAGS) -o $@ $(FAKE_CUDA_SRCS) -ldl

$(LIB)/libtvmfront.a: $(FRONT_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BIN)/tvm-run: $(MAIN_OBJ) $(LIB)/libtvmfront.a $(LIB)/libtvmrt.a
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tvm-pack: $(PACK_OBJ) $(LIB)/libtvmfront.a $(LIB)/libtvmrt.a
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# The C API's test: a C program that links libtvmrt alone (static, and the shared library),
# proving the runtime needs nothing of compiler/.
$(BIN)/capi-test: tests/capi/capi_test.c vm/include/tvm.h $(LIB)/libtvmrt.a
	@mkdir -p $(@D)
	$(CC) $(OPT) -std=c99 -Wall -Wextra -Ivm/include $(if $(filter 1,$(SAN)),$(SAN_CFLAGS)) \
	  -o $@ tests/capi/capi_test.c $(LIB)/libtvmrt.a $(ALL_LDFLAGS) -lstdc++ -lpthread $(LDLIBS)
$(BIN)/capi-test-shared: tests/capi/capi_test.c vm/include/tvm.h $(LIB)/libtvmrt.so
	@mkdir -p $(@D)
	$(CC) $(OPT) -std=c99 -Wall -Wextra -Ivm/include $(if $(filter 1,$(SAN)),$(SAN_CFLAGS)) \
	  -o $@ tests/capi/capi_test.c -L$(LIB) -ltvmrt -Wl,-rpath,'$$ORIGIN/../lib' -lpthread

$(BIN)/unit-tests: $(UNIT_OBJS) $(LIB)/libtvmfront.a $(LIB)/libtvmrt.a
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) -o $@ $^ -lboost_unit_test_framework $(LDLIBS)

$(BUILD)/share/tvm/stdlib/%.tl: stdlib/%.tl
	@mkdir -p $(@D)
	cp $< $@

$(GEN):
	@mkdir -p $@

# ---------------------------------------------------------------- tests

# `make test`: deps, build, every suite, then the same suites under the sanitizers.
test: deps
	$(MAKE) unit programs lint
	$(MAKE) test-asan

unit: $(BIN)/unit-tests
	$(BIN)/unit-tests --log_level=test_suite --report_level=short

# Golden programs interpreted and packaged, CLI checks, the C API (static and shared, 8
# threads on one package), then generated programs (fixed seeds) whose output must equal
# python3's interpreted and the interpreter's packaged (tests/gen_programs.py).
GEN_PROGRAMS ?= 300
programs: all $(BIN)/capi-test $(BIN)/capi-test-shared $(FAKE_CUDA)
	tests/run_programs.sh $(BIN)/tvm-run
	tests/run_programs.sh --pack $(BIN)/tvm-pack $(BIN)/tvm-run
	tests/cli.sh $(BIN)
	tests/capi.sh $(BIN)
	@echo "--device cuda on the fake CUDA device (tests/fakecuda: GPU memory the host cannot read):"
	TVM_CUDA_PLUGIN=$(abspath $(FAKE_CUDA)) tests/run_programs.sh $(BIN)/tvm-run --device cuda
	TVM_CUDA_PLUGIN=$(abspath $(FAKE_CUDA)) tests/run_programs.sh --pack $(BIN)/tvm-pack $(BIN)/tvm-run --device cuda
	TVM_CUDA_PLUGIN=$(abspath $(FAKE_CUDA)) CAPI_DEVICE=cuda tests/capi.sh $(BIN)
	tests/gpu.sh $(BIN)
	tests/diff_programs.sh --pack $(BIN)/tvm-pack $(BIN)/tvm-run 0 $(GEN_PROGRAMS)
	tests/diff_programs.sh --tensors --pack $(BIN)/tvm-pack $(BIN)/tvm-run 0 50

# The GPU tests with the sanitizer pass, on a machine with an NVIDIA GPU (they skip elsewhere).
test-gpu: all
	tests/gpu.sh $(BIN) --sanitizer

lint:
	@for m in $(MANPAGES); do \
	  out=$$(mandoc -Tlint -Wwarning $$m 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	done; echo "man pages: $(words $(MANPAGES)) clean under mandoc -Tlint"

# ASan+UBSan build in its own directory; reference cycles (closures, modules) are freed at
# exit by the VM, so leak checking stays on.
test-asan:
	$(MAKE) BUILD=build-asan SAN=1 OPT="-O1 -g" unit programs

# ---------------------------------------------------------------- demo, bench, install

# Both set up a fresh machine first, as `make test` does.
demo: deps
	@$(MAKE) --no-print-directory all
	@echo '$$ tvm-run examples/fancy_func.tl'
	@$(BIN)/tvm-run examples/fancy_func.tl
	@echo '$$ tvm-run examples/mlp.tl'
	@$(BIN)/tvm-run examples/mlp.tl
	@echo '$$ cd examples/pytorch_weights && tvm-run mlp_weights.tl    # PyTorch printed:' \
	  "$$(cat examples/pytorch_weights/expected.txt)"
	@cd examples/pytorch_weights && $(abspath $(BIN))/tvm-run mlp_weights.tl
	@echo '$$ tvm-pack examples/mlp_model.tl -o $(BUILD)/mlp.pkg'
	@$(BIN)/tvm-pack examples/mlp_model.tl -o $(BUILD)/mlp.pkg
	@echo '$$ tvm-run --disasm $(BUILD)/mlp.pkg'
	@$(BIN)/tvm-run --disasm $(BUILD)/mlp.pkg | sed -n '1,/RETURN/p'
	@echo '$$ tvm-run $(BUILD)/mlp.pkg --random --dim B=1'
	@$(BIN)/tvm-run $(BUILD)/mlp.pkg --random --dim B=1
	@echo '$$ tvm-run $(BUILD)/mlp.pkg --random --bench 10000'
	@$(BIN)/tvm-run $(BUILD)/mlp.pkg --random --bench 10000

bench: deps
	@$(MAKE) --no-print-directory all
	bench/run.sh $(BIN)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tvm/stdlib \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BIN)/tvm-run $(BIN)/tvm-pack $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB)/libtvmrt.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB)/libtvmrt.so $(CUDA_PLUGIN) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 vm/include/tvm.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STDLIB_SRCS) $(DESTDIR)$(PREFIX)/share/tvm/stdlib/
	for m in $(MANPAGES); do \
	  install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; done

DEB_PKGS := g++ make bison flex libzstd-dev libboost-test-dev libopenblas-dev mandoc python3
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: missing$$missing; run: sudo apt-get install -y$$missing"; exit 1; fi

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj $(BUILD)/obj-pic -name '*.d' 2>/dev/null)
