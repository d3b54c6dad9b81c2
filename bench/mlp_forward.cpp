// The seed's MLP (512 -> 256 -> 128 -> 2) forward pass written by hand over OpenBLAS, one
// thread: the lower bound that bench/mlp.sh compares tvm-run and PyTorch with.
//
//     mlp_forward WEIGHTS_DIR BATCH CALLS REPEATS
//     mlp_forward --version       prints OpenBLAS's configuration
//
// Reads WEIGHTS_DIR/mlp.safetensors (PyTorch's state_dict) and the input, WEIGHTS_DIR/x.npy at
// batch 1 or the first BATCH rows of WEIGHTS_DIR/x_batch.npy, then prints
//
//     out V V ... V     the outputs of the first and the last row (%.6f)
//     us T              microseconds per call: the median of REPEATS timed loops of CALLS
//                       calls each, after a warm-up
//
// Build: g++ -O2 -I/usr/include/$(g++ -print-multiarch)/openblas-pthread mlp_forward.cpp -lopenblas
#include <cblas.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "mlp_forward: %s\n", msg.c_str());
  std::exit(1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The integers of the first "[...]" or "(...)" at or after `from` in `text`.
std::vector<long> int_list(const std::string& text, size_t from, char open, char close) {
  size_t a = text.find(open, from), b = text.find(close, a);
  if (a == std::string::npos || b == std::string::npos) die("malformed header: " + text);
  std::vector<long> out;
  std::string inner = text.substr(a + 1, b - a - 1);
  for (char& c : inner)
    if (c == ',') c = ' ';
  std::istringstream ss(inner);
  for (long v; ss >> v;) out.push_back(v);
  return out;
}

struct Tensor {
  std::vector<long> shape;
  std::vector<float> data;
};

// A safetensors file: u64 LE header size, a JSON header, the data. Only what this program
// needs: F32 tensors looked up by name (names and keys never contain escapes here).
Tensor safetensors_get(const std::string& file, const std::string& name) {
  if (file.size() < 8) die("safetensors file too short");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(file[i]);
  if (8 + n > file.size()) die("safetensors header size out of range");
  std::string header = file.substr(8, n);
  size_t at = header.find("\"" + name + "\"");
  if (at == std::string::npos) die("no tensor '" + name + "' in mlp.safetensors");
  size_t end = header.find('}', at);
  std::string entry = header.substr(at, end - at);
  if (entry.find("\"F32\"") == std::string::npos) die(name + " is not F32");
  Tensor t;
  t.shape = int_list(entry, entry.find("\"shape\""), '[', ']');
  std::vector<long> off = int_list(entry, entry.find("\"data_offsets\""), '[', ']');
  long count = 1;
  for (long d : t.shape) count *= d;
  if (off.size() != 2 || off[1] - off[0] != count * 4 || 8 + n + off[1] > file.size())
    die("bad data_offsets for " + name);
  t.data.resize(count);
  std::memcpy(t.data.data(), file.data() + 8 + n + off[0], count * 4);  // x86: little-endian
  return t;
}

// A .npy file holding little-endian float32 in C order.
Tensor npy_load(const std::string& path) {
  std::string file = read_file(path);
  if (file.size() < 10 || file.compare(0, 6, "\x93NUMPY") != 0) die(path + " is not a .npy file");
  size_t hlen, start;
  if (file[6] == 1) {
    hlen = static_cast<unsigned char>(file[8]) | static_cast<unsigned char>(file[9]) << 8;
    start = 10;
  } else {
    hlen = 0;
    for (int i = 11; i >= 8; --i) hlen = hlen << 8 | static_cast<unsigned char>(file[i]);
    start = 12;
  }
  std::string header = file.substr(start, hlen);
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    die(path + ": expected little-endian float32 in C order");
  Tensor t;
  t.shape = int_list(header, header.find("'shape'"), '(', ')');
  long count = 1;
  for (long d : t.shape) count *= d;
  if (start + hlen + count * 4 > file.size()) die(path + " is truncated");
  t.data.resize(count);
  std::memcpy(t.data.data(), file.data() + start + hlen, count * 4);
  return t;
}

struct Layer {
  Tensor w, b;  // w: [out, in], b: [out]
  int in() const { return static_cast<int>(w.shape[1]); }
  int out() const { return static_cast<int>(w.shape[0]); }
};

// max(v, 0) in place. g++ -O2 compiles the plain loop to a branch on each sign, which
// mispredicts half the time (about 250 us a call at batch 256); maxps has no branch.
void relu_inplace(float* y, int n) {
  int i = 0;
#ifdef __SSE__
  const __m128 zero = _mm_setzero_ps();
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _mm_max_ps(_mm_loadu_ps(y + i), zero));
#endif
  for (; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

// y[batch, out] = x[batch, in] @ w.T + b, then relu when asked.
void linear(const Layer& l, const float* x, float* y, int batch, bool relu) {
  const int in = l.in(), out = l.out();
  for (int r = 0; r < batch; ++r) std::memcpy(y + r * out, l.b.data.data(), out * sizeof(float));
  if (batch == 1)
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, l.w.data.data(), in, x, 1, 1.0f, y, 1);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1.0f, x, in,
                l.w.data.data(), in, 1.0f, y, out);
  if (relu) relu_inplace(y, batch * out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("%s\n", openblas_get_config());
    return 0;
  }
  if (argc != 5) die("usage: mlp_forward WEIGHTS_DIR BATCH CALLS REPEATS");
  std::string dir = argv[1];
  int batch = std::atoi(argv[2]), calls = std::atoi(argv[3]), repeats = std::atoi(argv[4]);
  if (batch < 1 || calls < 1 || repeats < 1) die("BATCH, CALLS and REPEATS must be positive");
  openblas_set_num_threads(1);

  std::string file = read_file(dir + "/mlp.safetensors");
  std::vector<Layer> layers;
  for (const char* i : {"0", "2", "4"})
    layers.push_back({safetensors_get(file, std::string(i) + ".weight"),
                      safetensors_get(file, std::string(i) + ".bias")});
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (l.w.shape.size() != 2 || l.b.shape.size() != 1 || l.b.shape[0] != l.w.shape[0] ||
        (i > 0 && l.in() != layers[i - 1].out()))
      die("layer shapes do not chain");
  }

  Tensor x = npy_load(dir + (batch == 1 ? "/x.npy" : "/x_batch.npy"));
  if (x.shape.size() != 2 || x.shape[1] != layers[0].in() || x.shape[0] < batch)
    die("input must be [N, 512] with N >= BATCH");

  std::vector<float> h1(batch * layers[0].out()), h2(batch * layers[1].out()), y(batch * layers[2].out());
  auto forward = [&] {
    linear(layers[0], x.data.data(), h1.data(), batch, true);
    linear(layers[1], h1.data(), h2.data(), batch, true);
    linear(layers[2], h2.data(), y.data(), batch, false);
  };

  for (int i = 0, warm = std::max(10, calls / 10); i < warm; ++i) forward();
  std::vector<double> us;
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) forward();
    std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    us.push_back(elapsed.count() / calls);
  }
  std::sort(us.begin(), us.end());

  const int out = layers[2].out();
  std::printf("out");
  for (int r : {0, batch - 1})
    for (int j = 0; j < out; ++j) std::printf(" %.6f", y[r * out + j]);
  std::printf("\nus %.3f\n", us[us.size() / 2]);
  return 0;
}
