// The study store: one SQLite file (WAL mode) holding studies (name and settings) and every
// evaluation, each written in its own transaction as it finishes, so a killed run loses none.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct sqlite3;

namespace hao::store {

/// One finished evaluation. Text fields hold JSON or genotype strings as the caller chose.
struct EvaluationRecord {
  int index = 0;         ///< 0, 1, ... in the order the strategy asked
  std::string genotype;  ///< machine form (choice indices)
  std::string label;     ///< as users write it
  std::string bits;      ///< e.g. "w8a8 stem, w4a4 s0b0, ..."
  std::string hardware;  ///< JSON: configuration and resources
  double accuracy = 0;   ///< the decision metric (validation or table)
  double latency_ms = 0, fps = 0;
  double dsp = 0, lut = 0, bram36 = 0;
  double wall_s = 0;
  std::uint64_t seed = 0;
  std::string extra;  ///< JSON: anything else (test accuracy, checkpoint, ...)
};

/// Failures of the store that are not the input's fault (disk full, a concurrent writer).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where a study's settings, evaluations and notes are kept: the interface search::run_study
/// writes through (one SQLite file today; a shared server for many workers can stand behind it).
class StudyStore {
 public:
  virtual ~StudyStore() = default;
  /// Where the store is, as messages name it (a file path).
  virtual const std::string& path() const = 0;
  /// Creates study `name` with `settings`, or checks that the stored one has the same
  /// settings (core::InputError naming both otherwise; nothing is written). Returns whether
  /// it already existed.
  virtual bool open_study(const std::string& name, const std::string& settings) = 0;
  virtual bool has_study(const std::string& name) const = 0;
  /// InputError naming the studies it holds when absent.
  virtual std::string settings(const std::string& name) const = 0;
  virtual std::vector<std::string> studies() const = 0;
  /// The study's evaluations in index order.
  virtual std::vector<EvaluationRecord> evaluations(const std::string& name) const = 0;
  /// Writes one evaluation in one transaction. Its index must be the next one; a record
  /// already there (another process running the study) throws StoreError.
  virtual void add(const std::string& name, const EvaluationRecord& record) = 0;
  /// Key-value notes per study (e.g. the final measurements), replaced on write.
  virtual void put_note(const std::string& name, const std::string& key,
                        const std::string& value) = 0;
  /// "" when absent.
  virtual std::string note(const std::string& name, const std::string& key) const = 0;
};

/// The embedded store: one SQLite file (":memory:" keeps it in memory, for runs that need no
/// record, such as hao bench's).
class SqliteStudyStore : public StudyStore {
 public:
  /// Opens (creating when absent or empty) a store. A file that is not SQLite, or an SQLite
  /// file without hao's tables, throws core::InputError and is left untouched.
  explicit SqliteStudyStore(const std::string& path);
  ~SqliteStudyStore() override;
  SqliteStudyStore(const SqliteStudyStore&) = delete;
  SqliteStudyStore& operator=(const SqliteStudyStore&) = delete;

  const std::string& path() const override { return path_; }
  bool open_study(const std::string& name, const std::string& settings) override;
  bool has_study(const std::string& name) const override;
  std::string settings(const std::string& name) const override;
  std::vector<std::string> studies() const override;
  std::vector<EvaluationRecord> evaluations(const std::string& name) const override;
  void add(const std::string& name, const EvaluationRecord& record) override;
  void put_note(const std::string& name, const std::string& key, const std::string& value) override;
  std::string note(const std::string& name, const std::string& key) const override;

 private:
  void exec(const std::string& sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace hao::store
