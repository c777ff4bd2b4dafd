// A YAML node as one line of text, for messages that name a value or key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace hao::ir {

inline std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter e;
  e << YAML::Flow << node;
  return e.c_str();
}

}  // namespace hao::ir
