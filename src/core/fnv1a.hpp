// FNV-1a, 64 bits: a hash that is the same across runs, builds and machines (std::hash promises
// none of that), for names and identities kept in files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace hao::core {

class Fnv1a {
 public:
  Fnv1a& add(std::string_view bytes) {
    for (const char ch : bytes) {
      h_ ^= static_cast<unsigned char>(ch);
      h_ *= 1099511628211ull;
    }
    return *this;
  }
  /// 16 lowercase hex digits.
  std::string hex() const {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h_));
    return out;
  }

 private:
  std::uint64_t h_ = 14695981039346656037ull;
};

}  // namespace hao::core
