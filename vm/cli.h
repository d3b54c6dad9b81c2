// The small command-line helper every tvm tool shares: flags before the first operand,
// `--flag value` and `--flag=value`, and usage errors with exit code 2.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"

namespace tvm::cli {

struct Flag {
  const char* name;       // "--disasm"
  bool takes_value;
  const char* help;
};

class Args {
 public:
  Args(const char* tool, std::vector<Flag> flags, const char* usage) : tool_(tool), flags_(std::move(flags)), usage_(usage) {}

  // Parses argv. Flags stop at the first operand (or `--`); everything from there on is kept
  // as operands, so a script's own arguments pass through untouched.
  void parse(int argc, char** argv) { parse(std::vector<std::string>(argv + 1, argv + argc), false); }
  // Parses a list of arguments; with `interleaved`, flags may also follow operands (tvm-pack
  // model.tl -o model.pkg; tvm-run model.pkg --input x=x.npy) and only `--` ends them.
  void parse(const std::vector<std::string>& argv, bool interleaved) {
    size_t i = 0;
    for (; i < argv.size(); ++i) {
      std::string_view a = argv[i];
      if (a == "--") {
        ++i;
        break;
      }
      if (a.size() < 2 || a[0] != '-') {  // an operand ("-" alone is stdin)
        if (!interleaved) break;
        operands_.emplace_back(a);
        continue;
      }
      std::string name(a), value;
      bool has_value = false;
      if (size_t eq = a.find('='); eq != std::string_view::npos && a.rfind("--", 0) == 0) {
        name = std::string(a.substr(0, eq));
        value = std::string(a.substr(eq + 1));
        has_value = true;
      }
      const Flag* f = find(name);
      if (!f) usage_error("unknown option '" + name + "'");
      if (f->takes_value && !has_value) {
        if (i + 1 >= argv.size()) usage_error("option '" + name + "' needs a value");
        value = argv[++i];
      } else if (!f->takes_value && has_value) {
        usage_error("option '" + name + "' takes no value");
      }
      given_.push_back({f->name, value});
    }
    for (; i < argv.size(); ++i) operands_.emplace_back(argv[i]);
  }

  bool has(std::string_view name) const {
    for (auto& g : given_)
      if (g.first == name) return true;
    return false;
  }
  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (auto& g : given_)
      if (g.first == name) out.push_back(g.second);
    return out;
  }
  const std::vector<std::string>& operands() const { return operands_; }
  // The value of a flag given at most once ("" when absent); given twice is a usage error.
  std::string value(std::string_view name) const {
    std::vector<std::string> v = values(name);
    if (v.size() > 1) usage_error("option '" + std::string(name) + "' given more than once");
    return v.empty() ? std::string() : v[0];
  }

  void print_help() const {
    std::printf("usage: %s\n\noptions:\n", usage_);
    for (auto& f : flags_) std::printf("  %-18s %s\n", (std::string(f.name) + (f.takes_value ? " V" : "")).c_str(), f.help);
  }

  [[noreturn]] void usage_error(const std::string& msg) const {
    std::fprintf(stderr, "%s: %s\nusage: %s (try '%s --help')\n", tool_, msg.c_str(), usage_, tool_);
    std::exit(kExitUsage);
  }

 private:
  const Flag* find(const std::string& name) const {
    for (auto& f : flags_)
      if (name == f.name) return &f;
    return nullptr;
  }

  const char* tool_;
  std::vector<Flag> flags_;
  const char* usage_;
  std::vector<std::pair<std::string, std::string>> given_;
  std::vector<std::string> operands_;
};

// Reads the source file named on a command line ("-": standard input) into out. On failure
// prints "TOOL: cannot open 'PATH': REASON" and returns false (the caller exits with kExitFile).
inline bool read_source(const char* tool, const std::string& path, std::string& out) {
  auto read_all = [&out](std::istream& in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return !in.bad();
  };
  if (path == "-") {
    read_all(std::cin);  // a read error on stdin leaves what was read, as for a pipe closed early
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  errno = 0;
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) errno = EISDIR;
  else if (in && read_all(in)) errno = 0;
  else if (errno == 0) errno = EIO;
  if (errno == 0) return true;
  std::fprintf(stderr, "%s: cannot open '%s': %s\n", tool, path.c_str(), std::strerror(errno));
  return false;
}

}  // namespace tvm::cli
