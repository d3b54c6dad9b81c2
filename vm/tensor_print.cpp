// A port of torch/_tensor_str.py (PyTorch 1.13.1) for strided float32 CPU tensors with the
// default print options. The names follow the Python: _Formatter, _vector_str,
// _tensor_str_with_formatter, get_summarized_data, _add_suffixes.
#include "tensor_print.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace tvm {
namespace {

// PRINT_OPTS defaults.
constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;
constexpr int64_t kLineWidth = 80;
constexpr std::string_view kPrefix = "tensor(";

// Python's format(value, '.{prec}f') / '.{prec}e' of a float (a double): glibc's printf rounds
// the exact binary value correctly, as CPython does; non-finite values are spelled by hand since
// Python drops the sign of a nan ("nan", never "-nan").
std::string py_format(double value, int prec, char conv) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  const char fmt[] = {'%', '.', '*', conv, '\0'};
  char buf[512];  // '%.4f' of FLT_MAX is 44 characters; of DBL_MAX, 314
  int n = std::snprintf(buf, sizeof buf, fmt, prec, value);
  return std::string(buf, static_cast<size_t>(n));
}

// The indices along one dimension of size n that printing shows: all of them, or only the
// edge items when summarising.
std::vector<int64_t> shown_indices(int64_t n, bool summarize) {
  std::vector<int64_t> idx;
  if (summarize && n > 2 * kEdgeItems) {
    for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

struct View {
  const float* data;
  const std::vector<int64_t>& shape;
  std::vector<int64_t> strides;  // in elements, row-major
};

// get_summarized_data, flattened: the values the formatter sees.
void gather(const View& v, size_t dim, int64_t offset, bool summarize, std::vector<float>& out) {
  if (dim == v.shape.size()) {
    out.push_back(v.data[offset]);
    return;
  }
  for (int64_t i : shown_indices(v.shape[dim], summarize))
    gather(v, dim + 1, offset + i * v.strides[dim], summarize, out);
}

// _Formatter for a floating dtype.
class Formatter {
 public:
  explicit Formatter(const std::vector<float>& values) {
    std::vector<float> nonzero_finite;
    for (float x : values)
      if (std::isfinite(x) && x != 0.0f) nonzero_finite.push_back(x);
    if (nonzero_finite.empty()) return;  // no valid number: int_mode, width 1

    // torch converts the float32 absolute values to double for the min, max and ratio.
    double abs_min = INFINITY, abs_max = 0.0;
    for (float x : nonzero_finite) {
      double a = std::fabs(static_cast<double>(x));
      abs_min = std::min(abs_min, a);
      abs_max = std::max(abs_max, a);
    }
    for (float x : nonzero_finite) {
      if (x != std::ceil(x)) {
        int_mode_ = false;
        break;
      }
    }

    if (int_mode_) {
      // All integers: a decimal point is appended, hence the + 1.
      if (abs_max / abs_min > 1000.0 || abs_max > 1.0e8) {
        sci_mode_ = true;
        widen(nonzero_finite, 'e', kPrecision, 0);
      } else {
        widen(nonzero_finite, 'f', 0, 1);
      }
    } else {
      if (abs_max / abs_min > 1000.0 || abs_max > 1.0e8 || abs_min < 1.0e-4) {
        sci_mode_ = true;
        widen(nonzero_finite, 'e', kPrecision, 0);
      } else {
        widen(nonzero_finite, 'f', kPrecision, 0);
      }
    }
  }

  size_t width() const { return max_width_; }

  std::string format(float x) const {
    double value = x;  // Python sees tolist()/item(): the float32 value as a double
    std::string ret;
    if (sci_mode_) {
      ret = py_format(value, kPrecision, 'e');
    } else if (int_mode_) {
      ret = py_format(value, 0, 'f');
      if (std::isfinite(value)) ret += '.';
    } else {
      ret = py_format(value, kPrecision, 'f');
    }
    // (max_width - len(ret)) * " ": a negative count (e.g. "-0." wider than every nonzero
    // value) pads nothing.
    if (ret.size() < max_width_) ret.insert(0, max_width_ - ret.size(), ' ');
    return ret;
  }

 private:
  void widen(const std::vector<float>& values, char conv, int prec, size_t extra) {
    for (float x : values)
      max_width_ = std::max(max_width_, py_format(x, prec, conv).size() + extra);
  }

  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t max_width_ = 1;
};

struct Printer {
  const View& v;
  const Formatter& fmt;
  bool summarize;

  // _vector_str
  std::string vector_str(int64_t offset, int64_t indent) const {
    const int64_t dim = static_cast<int64_t>(v.shape.size()) - 1;
    const int64_t element_length = static_cast<int64_t>(fmt.width()) + 2;
    const int64_t avail = kLineWidth - indent;
    // int(math.floor(avail / element_length)), at least 1
    int64_t per_line = avail >= 0 ? avail / element_length : -((-avail + element_length - 1) / element_length);
    per_line = std::max<int64_t>(1, per_line);

    const int64_t n = v.shape[dim];
    std::vector<std::string> data;
    auto element = [&](int64_t i) { return fmt.format(v.data[offset + i * v.strides[dim]]); };
    if (summarize && n > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) data.push_back(element(i));
      data.push_back(" ...");
      for (int64_t i = n - kEdgeItems; i < n; ++i) data.push_back(element(i));
    } else {
      for (int64_t i = 0; i < n; ++i) data.push_back(element(i));
    }

    const std::string line_sep = ",\n" + std::string(static_cast<size_t>(indent + 1), ' ');
    std::string out = "[";
    for (size_t i = 0; i < data.size(); ++i) {
      if (i > 0) out += (static_cast<int64_t>(i) % per_line == 0) ? line_sep : std::string(", ");
      out += data[i];
    }
    out += ']';
    return out;
  }

  // _tensor_str_with_formatter, for the sub-tensor starting at `offset` from dimension `dim`.
  std::string tensor_str(size_t dim, int64_t offset, int64_t indent) const {
    const size_t rank = v.shape.size();
    if (dim == rank) return fmt.format(v.data[offset]);  // _scalar_str
    if (dim + 1 == rank) return vector_str(offset, indent);

    const int64_t n = v.shape[dim];
    std::vector<std::string> slices;
    auto slice = [&](int64_t i) { return tensor_str(dim + 1, offset + i * v.strides[dim], indent + 1); };
    if (summarize && n > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) slices.push_back(slice(i));
      slices.push_back("...");
      for (int64_t i = n - kEdgeItems; i < n; ++i) slices.push_back(slice(i));
    } else {
      for (int64_t i = 0; i < n; ++i) slices.push_back(slice(i));
    }

    // "," + "\n" * (self.dim() - 1) + " " * (indent + 1)
    const std::string sep = "," + std::string(rank - dim - 1, '\n') + std::string(static_cast<size_t>(indent + 1), ' ');
    std::string out = "[";
    for (size_t i = 0; i < slices.size(); ++i) {
      if (i > 0) out += sep;
      out += slices[i];
    }
    out += ']';
    return out;
  }
};

// str(tuple(shape)): "(0,)", "(2, 0, 3)"
std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ',';
  return s + ")";
}

// _add_suffixes, with force_newline false.
std::string add_suffixes(std::string tensor_str, const std::vector<std::string>& suffixes) {
  const size_t nl = tensor_str.rfind('\n');
  // len(tensor_str) - tensor_str.rfind("\n") + 1, where rfind gives -1 when there is none
  int64_t last_line_len = static_cast<int64_t>(tensor_str.size()) -
                          (nl == std::string::npos ? -1 : static_cast<int64_t>(nl)) + 1;
  const int64_t indent = static_cast<int64_t>(kPrefix.size());
  for (const std::string& suffix : suffixes) {
    const int64_t len = static_cast<int64_t>(suffix.size());
    if (last_line_len + len + 2 > kLineWidth) {
      tensor_str += ",\n" + std::string(static_cast<size_t>(indent), ' ') + suffix;
      last_line_len = indent + len;
    } else {
      tensor_str += ", " + suffix;
      last_line_len += len + 2;
    }
  }
  return tensor_str + ")";
}

}  // namespace

std::string format_tensor(const float* data, const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;

  if (numel == 0) {
    // Numpy's habit: the shape is shown unless it is (0,).
    std::vector<std::string> suffixes;
    if (shape.size() != 1) suffixes.push_back("size=" + shape_tuple(shape));
    return add_suffixes(std::string(kPrefix) + "[]", suffixes);
  }

  View view{data, shape, std::vector<int64_t>(shape.size())};
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    view.strides[i] = stride;
    stride *= shape[i];
  }

  const bool summarize = numel > kThreshold;
  std::vector<float> shown;
  gather(view, 0, 0, summarize, shown);
  const Formatter fmt(shown);
  const Printer printer{view, fmt, summarize};
  return add_suffixes(std::string(kPrefix) + printer.tensor_str(0, 0, static_cast<int64_t>(kPrefix.size())), {});
}

}  // namespace tvm
