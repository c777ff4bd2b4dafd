#include "search/space_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/genotype.hpp"
#include "search/builtin_spaces.hpp"

namespace hao::search {
namespace {

/// Reads typed fields of one YAML map, recording every problem with its key path.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string path, core::IssueList& issues,
         std::set<std::string> allowed)
      : node_(node), path_(std::move(path)), issues_(issues) {
    if (!node_.IsMap()) {
      issues_.add(path_.empty() ? "top level" : path_, "expected a map of keys");
      ok_ = false;
      return;
    }
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar()) {
        issues_.add(path_.empty() ? "top level" : path_, "a key that is not text");
        continue;
      }
      const std::string key = kv.first.as<std::string>();
      if (!allowed.count(key))
        issues_.add(at(key),
                    "unknown key; expected one of " +
                        core::join(std::vector<std::string>(allowed.begin(), allowed.end()), ", "));
    }
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const { return ok_ && node_[key]; }
  YAML::Node node(const std::string& key) const { return ok_ ? node_[key] : YAML::Node(); }

  void get(const std::string& key, int& out, int lo, int hi, bool required = false) {
    if (!has(key)) {
      if (required) issues_.add(at(key), "missing");
      return;
    }
    try {
      const int v = node_[key].as<int>();
      if (v < lo || v > hi)
        issues_.add(at(key), std::to_string(v) + " is out of range " + std::to_string(lo) + ".." +
                                 std::to_string(hi));
      else
        out = v;
    } catch (const YAML::Exception&) {
      issues_.add(at(key), "'" + YAML::Dump(node_[key]) + "' is not an integer");
    }
  }
  void get(const std::string& key, std::string& out, bool required = false) {
    if (!has(key)) {
      if (required) issues_.add(at(key), "missing");
      return;
    }
    if (!node_[key].IsScalar())
      issues_.add(at(key), "expected text");
    else
      out = node_[key].as<std::string>();
  }
  template <typename T>
  void list(const std::string& key, std::vector<T>& out, T lo, T hi) {
    if (!has(key)) {
      issues_.add(at(key), "missing");
      return;
    }
    const YAML::Node n = node_[key];
    if (!n.IsSequence() || n.size() == 0) {
      issues_.add(at(key), "expected a non-empty list of choices");
      return;
    }
    std::vector<T> values;
    for (std::size_t i = 0; i < n.size(); ++i) {
      try {
        const T v = n[i].as<T>();
        if (v < lo || v > hi) {
          issues_.add(at(key) + "[" + std::to_string(i) + "]",
                      core::number(static_cast<double>(v)) + " is out of range " +
                          core::number(static_cast<double>(lo)) + ".." +
                          core::number(static_cast<double>(hi)));
          continue;
        }
        for (const T& seen : values)
          if (seen == v) issues_.add(at(key) + "[" + std::to_string(i) + "]", "repeats a choice");
        values.push_back(v);
      } catch (const YAML::Exception&) {
        issues_.add(at(key) + "[" + std::to_string(i) + "]",
                    "'" + YAML::Dump(n[i]) + "' is not a number");
      }
    }
    out = values;
  }

 private:
  YAML::Node node_;
  std::string path_;
  core::IssueList& issues_;
  bool ok_ = true;
};

std::string resolve(const std::string& file, const std::string& data_dir) {
  if (file.empty() || std::filesystem::path(file).is_absolute()) return file;
  return data_dir + "/" + file;
}

}  // namespace

const std::vector<std::string>& mbv2_operators() {
  static const std::vector<std::string> names{"mbconv", "mbconv-hswish", "mbconv-se",
                                              "mbconv-se-hswish"};
  return names;
}

std::vector<std::string> builtin_space_names() {
  return {"fmnist-mbv2", "fmnist-mbv3", "fmnist-densenet", "fmnist-autoshrink", "nb201", "anb"};
}

std::optional<std::string> builtin_space(const std::string& name) {
  for (auto& [n, yaml] : builtin_space_yaml())
    if (n == name) return std::move(yaml);
  return std::nullopt;
}

std::string space_yaml(const std::string& name_or_path) {
  if (auto yaml = builtin_space(name_or_path)) return *yaml;
  if (!std::filesystem::is_regular_file(name_or_path))
    throw core::InputError("--space: '" + name_or_path + "' is neither a built-in space (" +
                           core::join(builtin_space_names(), ", ") + ") nor a file");
  return core::read_file(name_or_path);
}

SpaceSpec load_space(const std::string& name_or_path, const std::string& data_dir) {
  const bool builtin = builtin_space(name_or_path).has_value();
  SpaceSpec s = parse_space(space_yaml(name_or_path),
                            builtin ? "built-in space " + name_or_path : name_or_path, data_dir);
  s.source = builtin ? "built-in " + name_or_path : name_or_path;
  return s;
}

namespace {

/// A generative space's `input: {channels, height, width, bits}`.
void read_input(Fields& f, core::IssueList& issues, int& channels, int& height, int& width,
                int& bits) {
  if (!f.has("input")) return;
  Fields g(f.node("input"), "input", issues, {"channels", "height", "width", "bits"});
  g.get("channels", channels, 1, 4096);
  g.get("height", height, 1, 4096);
  g.get("width", width, 1, 4096);
  g.get("bits", bits, 2, 32);
}

SpaceSpec parse_space_checked(const std::string& yaml, const std::string& where,
                              const std::string& data_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw core::InputError(where + ": not YAML: " + e.what());
  }
  core::IssueList issues(where);
  SpaceSpec s;
  if (!root.IsMap()) {
    issues.add("top level", "expected a map with name and kind");
    issues.throw_if_any();
  }
  const std::string kind =
      root["kind"] && root["kind"].IsScalar() ? root["kind"].as<std::string>() : "";
  if (kind == "tabular") {
    Fields f(root, "", issues, {"name", "kind", "genotype", "accuracy", "latency"});
    f.get("name", s.name, true);
    s.kind = kind;
    f.get("genotype", s.table.space, true);
    if (!s.table.space.empty() && s.table.space != "nb201" && s.table.space != "anb")
      issues.add("genotype", "'" + s.table.space + "', expected nb201 or anb");
    for (const char* key : {"accuracy", "latency"}) {
      if (!f.has(key)) {
        issues.add(key, "missing");
        continue;
      }
      Fields g(f.node(key), key, issues, {"file", "column"});
      std::string file, column;
      g.get("file", file, true);
      g.get("column", column, true);
      (std::string(key) == "accuracy" ? s.table.accuracy_file : s.table.latency_file) =
          resolve(file, data_dir);
      (std::string(key) == "accuracy" ? s.table.accuracy_column : s.table.latency_column) = column;
    }
  } else if (kind == "mbv2") {
    // An operator pool: names from mbv2_operators, none repeated.
    auto read_pool = [&](const YAML::Node& n, const std::string& key,
                         std::vector<std::string>& out) {
      const std::vector<std::string>& known = mbv2_operators();
      if (!n.IsSequence() || n.size() == 0) {
        issues.add(key, "expected a non-empty list of operators (" + core::join(known, ", ") + ")");
        return;
      }
      out.clear();
      for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string op = n[i].IsScalar() ? n[i].as<std::string>() : YAML::Dump(n[i]);
        const std::string at = key + "[" + std::to_string(i) + "]";
        if (std::find(known.begin(), known.end(), op) == known.end())
          issues.add(at, "unknown operator '" + op + "', expected " + core::join_choices(known));
        else if (std::find(out.begin(), out.end(), op) != out.end())
          issues.add(at, "repeats '" + op + "'");
        out.push_back(op);
      }
    };
    Fields f(root, "", issues,
             {"name", "kind", "data", "input", "classes", "stem", "stages", "head",
              "classifier_bits", "choices"});
    f.get("name", s.name, true);
    s.kind = kind;
    Mbv2Spec& m = s.mbv2;
    f.get("data", m.data);
    f.get("classes", m.classes, 2, 100000);
    f.get("classifier_bits", m.classifier_bits, 2, 32);
    read_input(f, issues, m.input_channels, m.input_height, m.input_width, m.input_bits);
    if (f.has("stem")) {
      Fields g(f.node("stem"), "stem", issues, {"channels", "kernel", "stride", "bits"});
      g.get("channels", m.stem_channels, 1, 4096);
      g.get("kernel", m.stem_kernel, 1, 15);
      g.get("stride", m.stem_stride, 1, 8);
      g.get("bits", m.stem_bits, 2, 32);
    }
    if (f.has("head")) {
      Fields g(f.node("head"), "head", issues, {"channels"});
      g.get("channels", m.head_channels, 1, 65536);
    }
    const YAML::Node stages = f.node("stages");
    if (!stages || !stages.IsSequence() || stages.size() == 0) {
      issues.add("stages", "expected a non-empty list of {channels, stride}");
    } else {
      for (std::size_t i = 0; i < stages.size(); ++i) {
        const std::string at = "stages[" + std::to_string(i) + "]";
        Fields g(stages[i], at, issues, {"channels", "stride", "operators"});
        Mbv2Spec::Stage st;
        g.get("channels", st.channels, 1, 65536, true);
        g.get("stride", st.stride, 1, 8, true);
        if (g.has("operators")) read_pool(g.node("operators"), at + ".operators", st.operators);
        m.stages.push_back(st);
      }
    }
    if (!f.has("choices")) {
      issues.add("choices", "missing");
    } else {
      Fields g(f.node("choices"), "choices", issues,
               {"depth", "width", "kernel", "expansion", "bits", "operators"});
      g.list("depth", m.depth, 1, 16);
      if (g.has("operators")) read_pool(g.node("operators"), "choices.operators", m.operators);
      g.list("width", m.width, 0.05, 4.0);
      g.list("kernel", m.kernel, 1, 15);
      g.list("expansion", m.expansion, 0, 16);  // 0: the block bypassed (CBC)
      g.list("bits", m.bits, 2, 8);
      if (!m.expansion.empty() && std::count(m.expansion.begin(), m.expansion.end(), 0) ==
                                      static_cast<std::ptrdiff_t>(m.expansion.size()))
        issues.add("choices.expansion",
                   "only 0 (a bypassed block) leaves no channel to a stage's first block, which "
                   "changes the shape: at least one expansion above 0");
    }
  } else if (kind == "densenet") {
    Fields f(root, "", issues,
             {"name", "kind", "data", "input", "classes", "cells", "kernel", "classifier_bits",
              "choices"});
    f.get("name", s.name, true);
    s.kind = kind;
    DenseSpec& d = s.dense;
    f.get("data", d.data);
    f.get("classes", d.classes, 2, 100000);
    f.get("cells", d.cells, 1, 8);
    f.get("kernel", d.kernel, 1, 15);
    f.get("classifier_bits", d.classifier_bits, 2, 32);
    read_input(f, issues, d.input_channels, d.input_height, d.input_width, d.input_bits);
    if (d.kernel % 2 == 0)
      issues.add("kernel", std::to_string(d.kernel) + ", expected an odd size");
    const int shrink = 1 << (d.cells - 1);
    if (d.input_height < shrink || d.input_width < shrink)
      issues.add("cells", std::to_string(d.cells) + " cells halve the " +
                              std::to_string(d.input_height) + "x" + std::to_string(d.input_width) +
                              " input " + std::to_string(d.cells - 1) + " times, below one pixel");
    if (!f.has("choices")) {
      issues.add("choices", "missing");
    } else {
      Fields g(f.node("choices"), "choices", issues, {"width", "depth", "skips", "bits"});
      g.list("width", d.width, 1, 4096);
      g.list("depth", d.depth, 1, 32);
      g.list("skips", d.skips, 0, 32);
      if (g.has("bits"))
        g.list("bits", d.bits, 2, 8);
      else
        d.bits = {8};
      for (auto* v : {&d.width, &d.depth, &d.skips, &d.bits}) std::sort(v->begin(), v->end());
      // A skip count no layer can reach: layer j has j earlier layers (the transition and
      // layers 1..j-2 besides its predecessor: j - 1 of them), so the deepest cell's last
      // layer has max(depth) - 1.
      if (!d.depth.empty() && !d.skips.empty() && d.skips.back() > d.depth.back() - 1)
        issues.add("choices.skips", std::to_string(d.skips.back()) +
                                        " exceeds the earlier layers any layer can "
                                        "link to (the deepest cell, depth " +
                                        std::to_string(d.depth.back()) + ", has at most " +
                                        std::to_string(d.depth.back() - 1) +
                                        " for its last layer)");
    }
  } else if (kind == "autoshrink") {
    Fields f(root, "", issues,
             {"name", "kind", "data", "input", "classes", "nodes", "cells_per_stage", "bits"});
    f.get("name", s.name, true);
    s.kind = kind;
    AutoShrinkSpec& a = s.autoshrink;
    f.get("data", a.data);
    f.get("classes", a.classes, 2, 100000);
    f.get("cells_per_stage", a.cells_per_stage, 1, 16);
    f.get("bits", a.bits, 2, 8);
    int input_bits = 8;
    read_input(f, issues, a.input_channels, a.input_height, a.input_width, input_bits);
    if (a.input_height < 8 || a.input_width < 8)
      issues.add("input", "the macro network halves the input twice: at least 8x8 pixels");
    const YAML::Node nodes = f.node("nodes");
    if (!nodes || !nodes.IsSequence() || nodes.size() < 2 || nodes.size() > 8) {
      issues.add("nodes", "expected a list of 2 to 8 operators (" +
                              core::join(ir::autoshrink_ops(), ", ") + ")");
    } else {
      const std::vector<std::string>& ops = ir::autoshrink_ops();
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        const std::string op = nodes[i].IsScalar() ? nodes[i].as<std::string>() : "";
        if (std::find(ops.begin(), ops.end(), op) == ops.end())
          issues.add("nodes[" + std::to_string(i) + "]",
                     "'" + op + "', expected " + core::join_choices(ops));
        a.nodes.push_back(op);
      }
    }
  } else {
    issues.add("kind", (kind.empty() ? std::string("missing") : "'" + kind + "'") +
                           ", expected mbv2, densenet, autoshrink or tabular");
  }
  issues.throw_if_any();
  return s;
}

}  // namespace

SpaceSpec parse_space(const std::string& yaml, const std::string& where,
                      const std::string& data_dir) {
  try {
    return parse_space_checked(yaml, where, data_dir);
  } catch (const YAML::Exception& e) {
    // A node of an unexpected kind that a check above let through: still bad input.
    throw core::InputError(where + ": " + e.what());
  }
}

}  // namespace hao::search
