// The register back end (compiler/emit_reg.h): the shape of the code it makes (no CHECKDEF
// where a variable is certainly assigned, folded constants, the seed MLP as three fused GEMMs,
// pack-time errors), and every golden program run through emit_register_module and the
// register VM, whose output must equal the stack VM's.
#include <boost/test/unit_test.hpp>

#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <random>
#include <fstream>
#include <sstream>

#include "../../compiler/emit_reg.h"
#include "../../compiler/emit_stack.h"
#include "../../compiler/loader.h"
#include "../../compiler/pack.h"
#include "../../compiler/parse.h"
#include "../../compiler/resolver.h"
#include "../../packager/pkg_code.h"
#include "../../packager/verify.h"
#include "../../vm/ops.h"
#include "../../vm/device.h"
#include "../../vm/placement.h"
#include "../../vm/program.h"
#include "../../vm/reg_vm.h"
#include "../../vm/run_package.h"
#include "../../vm/tensor.h"
#include "run_tl.h"

using namespace tvm;
namespace fs = std::filesystem;

namespace {

fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path().parent_path(); }

// Source compiled to register code as a script's top level.
struct RegModule {
  SourceFile file;
  Diagnostics diag;
  std::unique_ptr<ast::Module> tree;
  ModuleObj* module;
  CodeObj* code = nullptr;

  explicit RegModule(const std::string& src, RegCompileEnv env = RegCompileEnv(), const std::string& name = "t.tl")
      : file(name, src), diag(file) {
    module = new ModuleObj(intern("__main__"));
    module->path = name;
    module->slots[size_t(module->slot("__name__"))] = make_str("__main__");
    tree = parse_module(file, diag);
    if (!diag.has_errors()) resolve(*tree, diag);
    if (!diag.has_errors()) code = emit_register_module(*tree, module, env, diag);
  }
  ~RegModule() {
    if (code) decref(code);
    decref(module);
  }
  std::string first_error() const { return diag.errors().empty() ? "" : diag.format(diag.errors().front()); }
};

// Every code object: c and the code constants nested in it.
void all_codes(const CodeObj* c, std::vector<const CodeObj*>& out) {
  out.push_back(c);
  for (Value v : c->consts)
    if (is_type(v, ObjType::Code)) all_codes(as_obj<CodeObj>(v), out);
}

const CodeObj* find_code(const CodeObj* c, const std::string& name) {
  std::vector<const CodeObj*> codes;
  all_codes(c, codes);
  for (const CodeObj* x : codes)
    if (x->name == name) return x;
  return nullptr;
}

int count(const CodeObj* c, ROp op) {
  return int(std::count_if(c->rcode.begin(), c->rcode.end(), [op](RInstr i) { return rop(i) == op; }));
}

// Runs register code as a script package's top level on the register VM.
test::Run run_register(const CodeObj* code, ModuleObj* layout) {
  test::Run r;
  Program p;
  p.manifest.is_script = true;
  p.manifest.source_name = layout->path;
  incref(const_cast<CodeObj*>(code));
  incref(layout);
  auto* fn = new FunctionObj(const_cast<CodeObj*>(code), layout);
  p.entry = Value::object(fn);
  {
    RegisterVM vm(p);
    vm.capture = &r.out;
    try {
      vm.run_script();
    } catch (const ProgramError& e) {
      r.rc = e.exit_code;
      r.err = e.message;
    }
  }
  p.entry = Value::none();
  decref(Value::object(fn));
  collect_cycles();
  return r;
}

// The verifier's reasons for refusing any code object in c ("" when it takes them all).
std::string verify_all(const CodeObj* c, const ModuleObj* module) {
  std::vector<const CodeObj*> codes;
  all_codes(c, codes);
  pkg::VerifyContext ctx;
  ctx.nglobals = module->slots.size();
  std::string out;
  for (const CodeObj* x : codes) {
    std::string why = pkg::verify_code(*x, ctx);
    if (!why.empty()) out += x->name + ": " + why + "\n";
  }
  return out;
}

test::Run run_register_source(const std::string& src) {
  RegModule m(src);
  if (!m.code) return {1, "", m.first_error()};
  if (std::string why = verify_all(m.code, m.module); !why.empty()) return {99, "", "verifier: " + why};
  return run_register(m.code, m.module);
}

// Pack time: the script runs on the stack VM (imports from stdlib/), then a function value it
// made is compiled against the frozen state.
struct PackTime {
  StackVM vm;
  std::vector<LoadedModule> kept;
  SourceFile file;
  Diagnostics diag;
  std::unique_ptr<ast::Module> tree;
  ModuleObj* module;
  std::string out;

  explicit PackTime(const std::string& src) : file("m.tl", src), diag(file) {
    LoaderOptions opt;
    opt.search_path = {(repo_root() / "stdlib").string()};
    opt.keep = &kept;
    install_importer(vm, opt);
    vm.capture = &out;
    module = new ModuleObj(intern("m"));
    module->path = "m.tl";
    vm.modules["m"] = module;
    CodeObj* code = compile_source(file, module, diag, &tree);
    BOOST_REQUIRE(code);
    vm.run_module(module, code);
    decref(code);
  }

  // The entry compiled; null after pack-time errors (then in diag).
  CodeObj* compile(const std::string& name, RegCompileEnv env = {true, true, true}) {
    Value f = module->get(name);
    BOOST_REQUIRE(is_type(f, ObjType::Function));
    return emit_register_function(as_obj<FunctionObj>(f), env, [this](const CodeObj*) -> Diagnostics& { return diag; });
  }
};

// The entry compiled from pack.compile(name) and run on the register VM with the module
// global `input` as its argument, against the stack VM's call of the function: repr of both.
std::pair<std::string, std::string> run_both(PackTime& pack, const std::string& name, const std::string& input) {
  Value x = pack.module->get(input);
  Value fv = pack.module->get(name);
  Value want = pack.vm.call(fv, {x});
  std::string a = repr(want);
  decref(want);
  CodeObj* code = pack.compile(name);
  if (!code) return {a, "<no code>"};
  Program p;
  incref(pack.module);
  auto* fn = new FunctionObj(code, pack.module);  // adopts code
  p.entry = Value::object(fn);
  std::string b;
  {
    RegisterVM vm(p);
    vm.capture = &pack.out;
    try {
      Value got = vm.call_entry(&x, 1);
      b = repr(got);
      decref(got);
    } catch (const ProgramError& e) {
      b = e.message;
    }
  }
  p.entry = Value::none();
  decref(Value::object(fn));
  return {a, b};
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(emit_reg)

BOOST_AUTO_TEST_CASE(parameters_and_assigned_locals_need_no_checkdef) {
  RegModule m("def f(a, b):\n    c = a + b\n    return c * a\n");
  BOOST_REQUIRE(m.code);
  const CodeObj* f = find_code(m.code, "f");
  BOOST_REQUIRE(f);
  BOOST_TEST(f->is_register);
  BOOST_TEST(count(f, ROp::CHECKDEF) == 0);
  BOOST_TEST(f->nparams == 2);
  BOOST_TEST(f->slot_names.size() >= 2u);
}

BOOST_AUTO_TEST_CASE(maybe_unassigned_locals_are_checked) {
  RegModule m("def f(c):\n    if c:\n        y = 1\n    return y\n");
  BOOST_REQUIRE(m.code);
  BOOST_TEST(count(find_code(m.code, "f"), ROp::CHECKDEF) == 1);
  auto r = run_register_source("def f(c):\n    if c:\n        y = 1\n    return y\nprint(f(True))\nf(False)\n");
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(test::first_line(r.err) == "t.tl:4:12: runtime error: local variable 'y' referenced before assignment");
}

BOOST_AUTO_TEST_CASE(constants_fold_and_dead_code_goes) {
  RegModule m("def f():\n    x = 2 * 3 + 1\n    if x > 5:\n        return x\n    return 'never'\n");
  BOOST_REQUIRE(m.code);
  const CodeObj* f = find_code(m.code, "f");
  BOOST_TEST(f->rcode.size() == 1u);  // RETURN K(7)
  BOOST_TEST(count(f, ROp::RETURN) == 1);
}

BOOST_AUTO_TEST_CASE(folding_leaves_errors_to_run_time) {
  auto r = run_register_source("print(1)\nx = 1 // 0\n");
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(test::first_line(r.err) == "t.tl:2:5: runtime error: division by zero");
}

// fib's body as Lua 5.4 compiles it: the constants 1 and 2 are immediates of SUBI and IFLTI,
// and only right-hand int constants within the 20-bit range are (the slow path must see the
// operands in their order; 524288 does not fit).
BOOST_AUTO_TEST_CASE(small_int_constants_are_immediates) {
  RegModule m(
      "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n"
      "def g(x):\n    return (1 + x, x + 524288, x - -524288, x * 2, x + 1.5, x + True)\n");
  BOOST_REQUIRE(m.code);
  const CodeObj* fib = find_code(m.code, "fib");
  BOOST_TEST(fib->rcode.size() == 11u);
  BOOST_TEST(count(fib, ROp::IFLTI) == 1);
  BOOST_TEST(count(fib, ROp::SUBI) == 2);
  BOOST_TEST(count(fib, ROp::IFLT) == 0);
  BOOST_TEST(count(fib, ROp::SUB) == 0);
  const CodeObj* g = find_code(m.code, "g");
  BOOST_TEST(count(g, ROp::ADDI) == 0);
  BOOST_TEST(count(g, ROp::SUBI) == 1);  // x - -524288
  BOOST_TEST(count(g, ROp::ADD) == 4);
  for (RInstr i : g->rcode)
    if (rop(i) == ROp::SUBI) BOOST_TEST(rimm(rc(i)) == -524288);
}

BOOST_AUTO_TEST_CASE(calls_keep_live_values_below_the_block) {
  auto r = run_register_source(
      "def g(a, b):\n    return a * 10 + b\n"
      "def f(x):\n    y = x + 1\n    z = g(y, x) + g(x, y) + y\n    return (x, y, z)\n"
      "print(f(2), [g(i, i) for i in range(3)], {k: g(k, 1) for k in (1, 2)})\n");
  BOOST_TEST(r.out == "(2, 3, 58) [0, 11, 22] {1: 11, 2: 21}\n");
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(closures_cells_and_nonlocal) {
  auto r = run_register_source(
      "def counter(n):\n    def inc(k=1):\n        nonlocal n\n        n += k\n        return n\n    return inc\n"
      "c = counter(10)\nc()\nc(5)\nprint(c(), (lambda a, *r: (a, r))(1, 2, 3))\n");
  BOOST_TEST(r.out == "17 (1, (2, 3))\n");
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(seed_mlp_is_three_fused_gemms) {
  PackTime pt(
      "import nn\nnet = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 2))\n"
      "def forward(x: Tensor[B, 512]) -> Tensor[B, 2]:\n    return net(x)\n");
  CodeObj* c = pt.compile("forward");
  BOOST_REQUIRE(c);
  BOOST_TEST(count(c, ROp::KCALL) == 3);
  BOOST_TEST(count(c, ROp::CALL) == 0);
  BOOST_TEST(count(c, ROp::RETURN) == 1);
  BOOST_TEST(count(c, ROp::CHECKARGS) == 1);
  BOOST_TEST(count(c, ROp::CHECKRETURN) == 1);
  BOOST_REQUIRE(c->kernels.size() == 3u);
  BOOST_TEST(int(c->kernels[0].act) == int(Activation::Relu));
  BOOST_TEST(int(c->kernels[1].act) == int(Activation::Relu));
  BOOST_TEST(int(c->kernels[2].act) == int(Activation::None));
  for (const KernelDesc& k : c->kernels) BOOST_TEST((k.kind == KernelDesc::Gemm && k.has_bias && k.arity == 3));
  decref(c);
}

BOOST_AUTO_TEST_CASE(specialised_functions_compute_what_the_stack_vm_computes) {
  PackTime pt(
      "import nn\nnet = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3), nn.Tanh())\n"
      "X = rand(2, 8)\nW = rand(4, 8)\nb = rand(4)\nscale = 3\n"
      "def forward(x: Tensor[B, 8]) -> Tensor[B, 3]:\n    return net(x)\n"
      "def helper(v, k=2):\n    if k > 1:\n        return v * k\n    return v\n"
      "def mixed(x: Tensor[B, 8]):\n    y = relu(x @ W.T + b)\n    z = helper(y) - helper(y, 1) / scale\n"
      "    parts = [sigmoid(z) * 2 + 1 for _ in range(2)]\n    return parts[0].shape, (z * z).sum()\n");
  auto [want, got] = run_both(pt, "forward", "X");
  BOOST_TEST(got == want);
  auto [want2, got2] = run_both(pt, "mixed", "X");
  BOOST_TEST(got2 == want2);
}

BOOST_AUTO_TEST_CASE(matmul_with_transposed_weight_becomes_a_gemm_and_chains_fuse) {
  PackTime pt(
      "W = rand(4, 3)\nb = rand(4)\n"
      "def forward(x: Tensor[B, 3]) -> Tensor[B, 4]:\n    return tanh(x @ W.T + b)\n"
      "def scale(x: Tensor[B, 3]):\n    return sigmoid(x * 2.0 - 1) * x\n"
      "def single(x: Tensor[B, 3]):\n    return relu(x)\n");
  CodeObj* c = pt.compile("forward");
  BOOST_REQUIRE(c);
  BOOST_TEST(count(c, ROp::KCALL) == 1);
  BOOST_TEST(count(c, ROp::MATMUL) == 0);
  BOOST_TEST((c->kernels.at(0).kind == KernelDesc::Gemm && c->kernels[0].has_bias && c->kernels[0].act == Activation::Tanh));
  decref(c);
  CodeObj* s = pt.compile("scale");
  BOOST_REQUIRE(s);
  BOOST_TEST(count(s, ROp::KCALL) == 1);
  BOOST_TEST((s->kernels.at(0).kind == KernelDesc::Elementwise && s->kernels[0].steps.size() == 4u && s->kernels[0].arity == 1));
  BOOST_TEST(check_kernel(s->kernels[0]) == "");
  decref(s);
  CodeObj* one = pt.compile("single");
  BOOST_REQUIRE(one);
  BOOST_TEST(count(one, ROp::KCALL) == 0);
  decref(one);
}

BOOST_AUTO_TEST_CASE(frozen_values_fold_and_loops_unroll) {
  PackTime pt(
      "K = (1, 2, 3)\nNAME = 'k'\n"
      "def forward(x: int) -> int:\n    t = 0\n    for k in K:\n        t += k * x\n    if len(K) == 3 and type(NAME) == 'str':\n        return t\n    return -1\n");
  CodeObj* c = pt.compile("forward");
  BOOST_REQUIRE(c);
  BOOST_TEST(count(c, ROp::FORITER) == 0);
  BOOST_TEST(count(c, ROp::GETGLOBAL) == 0);
  BOOST_TEST(count(c, ROp::JMP) == 0);
  BOOST_TEST(count(c, ROp::MUL) == 3);
  decref(c);
}

BOOST_AUTO_TEST_CASE(pack_time_errors) {
  PackTime pt(
      "g = 1\n"
      "def assigns(x: int):\n    global g\n    g = x\n    return x\n"
      "def imports(x: int):\n    import nn\n    return x\n"
      "def outer():\n    n = 0\n    def inner(x: int):\n        nonlocal n\n        n = x\n        return n\n    return inner\n"
      "frozen = outer()\n");
  BOOST_TEST(!pt.compile("assigns"));
  BOOST_REQUIRE(pt.diag.errors().size() == 1u);
  BOOST_TEST(pt.diag.format(pt.diag.errors()[0]).rfind("m.tl:4:5: error: cannot assign global 'g' in a package entry", 0) == 0u);
  BOOST_TEST(!pt.compile("imports"));
  BOOST_REQUIRE(pt.diag.errors().size() == 2u);
  BOOST_TEST(pt.diag.errors()[1].message == "import inside a package entry is not supported");
  BOOST_TEST(!pt.compile("frozen"));
  BOOST_REQUIRE(pt.diag.errors().size() == 3u);
  BOOST_TEST(pt.diag.errors()[2].message == "cannot modify frozen value 'n'");
}

// Every golden program that imports and loads nothing prints, through the register back end
// and the register VM, what it prints on the stack VM (the first stderr line too).
BOOST_AUTO_TEST_CASE(golden_programs_match_the_stack_vm) {
  fs::path dir = repo_root() / "tests" / "programs";
  std::vector<fs::path> programs;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".tl" && e.path().filename().string()[0] != '_') programs.push_back(e.path());
  std::sort(programs.begin(), programs.end());
  int run = 0, passed = 0;
  for (const fs::path& p : programs) {
    std::string src = read_text(p);
    if (src.find("import") != std::string::npos || src.find("load(") != std::string::npos ||
        src.find("save(") != std::string::npos || src.find("argv") != std::string::npos ||
        src.find("clock") != std::string::npos)
      continue;
    ++run;
    test::Run want = test::run(src);
    test::Run got = run_register_source(src);
    bool ok = got.out == want.out && test::first_line(got.err) == test::first_line(want.err);
    if (ok) ++passed;
    BOOST_TEST(ok, p.filename().string() << ": register VM differs\n--- stack out:\n" << want.out << "--- register out:\n"
                                        << got.out << "--- stack err: " << test::first_line(want.err)
                                        << "\n--- register err: " << test::first_line(got.err));
  }
  BOOST_TEST_MESSAGE("register back end: " << passed << " of " << run << " golden programs match");
  BOOST_TEST(run > 100);
}

// Verified is not the same as well-typed: the verifier checks each instruction's operands,
// and what a register holds at run time is the VM's to check (a cell for GETCELL, an iterator
// for FORITER, a list for LISTAPPEND...). Every code object of a program that uses most of the
// instruction set is damaged many times over (an opcode or an operand changed, two
// instructions swapped); each damaged program the verifier accepts runs in a child process,
// which must end with a result or an error, never a signal (a loop the damage made endless is
// stopped by an alarm). Under ASan+UBSan a report ends the child with a non-zero status.
BOOST_AUTO_TEST_CASE(verified_damaged_code_never_crashes) {
  const std::string src = R"(
def make_counter(start):
    n = start
    def inc(step=1):
        nonlocal n
        n += step
        return n
    return inc
c = make_counter(3)
xs = [1, 2.5, "a", None, (1, 2)]
d = {"k": 1, "j": [1, 2]}
for i in range(4):
    xs.append(c(i))
    d["x" + str(i)] = i * 2
s = 0
for k in d:
    s = s + len(str(d[k]))
t = tuple(xs)
print(f"{s} {t[1]:.2f} {len(xs)!r}")
a, b = 1, 2
while a < 10:
    a, b = b, a + b
def f(k, *args):
    return [x * k for x in args]
def g(p, q, r, x=0):
    return p + q + r + x
ys = [1, 2]
ys += [3]
print(f(3, *ys), g(*ys, x=4), a, b, xs[1:3], -a, not b, a % 3, a // 2, a ** 2, a & b, a | 1, a ^ b, a << 1, a >> 1)
print(sorted([3, 1, 2]), "abc".upper(), d.get("k"), xs[-1], 5 if a < b else (a == b) or (a != b))
assert a > 0, "positive"
v = tensor([[1.0, -2.0], [3.0, 4.0]])
print(((v * 2.0 + 1.0) * v).sum(), v[0], v.shape, relu(v @ v + v))
)";
  RegModule m(src);
  BOOST_REQUIRE_MESSAGE(m.code, m.first_error());
  BOOST_REQUIRE_EQUAL(verify_all(m.code, m.module), "");
  std::vector<const CodeObj*> codes;
  all_codes(m.code, codes);

  // TVM_FUZZ_SEED and TVM_FUZZ_TRIALS explore further; TVM_FUZZ_TRIAL=N also runs damage N in
  // this process first, for a debugger.
  auto env = [](const char* name, long fallback) { const char* v = getenv(name); return v ? atol(v) : fallback; };
  std::mt19937 rng(uint32_t(env("TVM_FUZZ_SEED", 20261121)));
  const long trials = env("TVM_FUZZ_TRIALS", 2500), debug_trial = env("TVM_FUZZ_TRIAL", -1);
  auto pick = [&](uint32_t n) { return uint32_t(std::uniform_int_distribution<uint32_t>(0, n - 1)(rng)); };
  int refused = 0, ran = 0, stopped = 0;
  for (long trial = 0; trial < trials; ++trial) {
    auto* c = const_cast<CodeObj*>(codes[pick(uint32_t(codes.size()))]);
    const std::vector<RInstr> original = c->rcode;
    size_t at = pick(uint32_t(c->rcode.size()));
    RInstr in = c->rcode[at];
    uint32_t a = ra(in), b = rb(in), cc = rc(in);
    // A small value: a register of the frame, a constant as an RK operand, or a count.
    auto operand = [&]() -> uint32_t {
      switch (pick(3)) {
        case 0: return pick(uint32_t(c->nregs) + 1);
        case 1: return c->consts.empty() ? 0 : rk_const(pick(uint32_t(c->consts.size())));
        default: return pick(4);
      }
    };
    switch (pick(5)) {
      case 0: c->rcode[at] = rencode(ROp(pick(uint32_t(kNumROps))), a, b, cc); break;
      case 1: c->rcode[at] = rencode(rop(in), operand(), b, cc); break;
      case 2: c->rcode[at] = rencode(rop(in), a, operand(), cc); break;
      case 3: c->rcode[at] = rencode(rop(in), a, b, operand()); break;
      default: std::swap(c->rcode[at], c->rcode[pick(uint32_t(c->rcode.size()))]); break;
    }
    if (!verify_all(m.code, m.module).empty()) {
      ++refused;
    } else {
      ++ran;
      if (trial == debug_trial) {
        test::Run r = run_register(m.code, m.module);
        BOOST_TEST_MESSAGE("in-process: " << r.rc << " " << r.err);
      }
      pid_t pid = fork();
      BOOST_REQUIRE(pid >= 0);
      if (pid == 0) {
        itimerval limit{};
        limit.it_value.tv_usec = 100000;  // 0.1 s: the undamaged program takes about a millisecond
        setitimer(ITIMER_REAL, &limit, nullptr);
        test::Run r = run_register(m.code, m.module);
        _exit(r.rc == 0 || !r.err.empty() ? 0 : 1);  // an error must say what it is
      }
      int status = 0;
      waitpid(pid, &status, 0);
      bool alarm_stop = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
      if (alarm_stop) ++stopped;
      BOOST_TEST((alarm_stop || (WIFEXITED(status) && WEXITSTATUS(status) == 0)),
                 "damage " << trial << " to '" << c->name << "' at " << at << " (" << kROpInfo[in & 0xFF].name << " -> "
                           << kROpInfo[c->rcode[at] & 0xFF].name << "): child "
                           << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                   : "exit " + std::to_string(WEXITSTATUS(status))));
    }
    c->rcode = original;
  }
  BOOST_TEST_MESSAGE("damaged code: " << refused << " refused by the verifier, " << ran << " ran (" << stopped
                                      << " stopped by the alarm)");
  BOOST_TEST(ran > trials / 5);
}

// A function package made from source and read back, as tvm-run and the C API get it.
std::unique_ptr<Program> package_of(const std::string& src) {
  Packed packed = pack_program("w.tl", src, PackOptions{});
  std::vector<uint8_t> bytes = pkg::write_program(*packed.program, {});
  return pkg::load_program_memory(bytes.data(), bytes.size());
}

// warm_up calls the entry only when that cannot show: an entry that prints, loops or fails on
// zeros is left alone or its error dropped, and the calls after it give what they would have.
BOOST_AUTO_TEST_CASE(warm_up_calls_only_straight_line_entries) {
  struct Case {
    const char* src;
    Value input;
    std::string want;  // repr of the result of a call after the warm-up
  };
  const Case cases[] = {
      {"def forward(k: int) -> int:\n    print('called', k)\n    return k\n", Value::small_int(3), "3"},
      {"def forward(k: int) -> int:\n    while k == 0:\n        pass\n    return k\n", Value::small_int(4), "4"},
      {"def forward(k: int) -> int:\n    return 10 // k\n", Value::small_int(2), "5"},
      {"def forward(k: int, s: str) -> str:\n    return s * k\n", Value::undefined(), ""},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Program> p = package_of(c.src);
    RegisterVM vm(*p);
    Placement placement(*p, cpu_device());
    std::string out;
    vm.capture = &out;
    warm_up(*p, placement, vm);  // would hang on the loop, or print
    BOOST_TEST(out == "", c.src);
    if (c.input.is_undefined()) continue;
    Value r = vm.call_entry(&c.input, 1);
    BOOST_TEST(repr(r) == c.want, c.src);
    decref(r);
  }
  // A straight-line tensor entry: warmed on zeros of shape [1, 3], then called on [2, 3].
  std::unique_ptr<Program> p = package_of(
      "w = tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])\n"
      "def forward(x: Tensor[B, 3]) -> Tensor[B, 2]:\n    return relu(x @ w.T + 1.0)\n");
  RegisterVM vm(*p);
  Placement placement(*p, cpu_device());
  warm_up(*p, placement, vm);
  const int64_t shape[] = {2, 3};
  TensorObj* x = new_tensor(shape);
  for (int i = 0; i < 6; ++i) x->data[i] = float(i);
  Value arg = Value::object(x);
  Value r = vm.call_entry(&arg, 1);
  BOOST_TEST(repr(r) == "tensor([[ 0.,  2.],\n        [ 0., 11.]])");
  decref(r);
  decref(arg);
}

BOOST_AUTO_TEST_SUITE_END()
