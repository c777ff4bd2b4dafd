// What a trained supernet's members were judged at and its finalists measured at, kept across
// studies. A member's accuracy on the supernet does not depend on the device, template or speed
// target it is mapped for, and judging and fine-tuning are deterministic for a seed and a thread
// count: a later study on the same supernet takes a result it finds here instead of computing it
// again, and gets the same number it would have computed.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hao::nn {

/// A 64-bit FNV-1a digest of `file`'s bytes, in hex: the supernet's identity in the memo (the
/// same path may later hold another training). InputError naming the file when it cannot be read.
std::string file_digest(const std::string& file);

/// An SQLite file of (kind, key) -> JSON value. Several workers may share it (SQLite's locking).
class SupernetMemo {
 public:
  /// Opens `file`, creating it when absent. InputError naming the file when it is not a memo
  /// (another kind of file, a damaged one).
  explicit SupernetMemo(const std::string& file);
  ~SupernetMemo();
  SupernetMemo(const SupernetMemo&) = delete;
  SupernetMemo& operator=(const SupernetMemo&) = delete;

  /// The value kept for (kind, key); none when there is none or it is not JSON.
  std::optional<nlohmann::json> find(const std::string& kind, const std::string& key) const;
  /// The keys of `kind` that begin with `prefix`, in the order they were first kept.
  std::vector<std::string> keys(const std::string& kind, const std::string& prefix) const;
  /// Keeps `value` for (kind, key), replacing what was there.
  void put(const std::string& kind, const std::string& key, const nlohmann::json& value);
  const std::string& path() const { return path_; }

 private:
  struct Db;
  std::unique_ptr<Db> db_;
  std::string path_;
};

}  // namespace hao::nn
