// The study store: studies (name and settings), every evaluation, each written in its own
// transaction as it finishes, so a killed run loses none, and the candidates being evaluated
// (claims with a heartbeat), so that many workers share one study. One SQLite file (WAL mode)
// by default; a PostgreSQL server (postgres_store.hpp) for workers on many machines.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

/// A candidate a worker is evaluating: reserved in the store before its evaluation starts,
/// kept alive by the worker's heartbeat, removed when its evaluation is stored.
struct PendingRecord {
  int index = 0;
  std::string genotype, label;
  std::string worker;  ///< "host:pid:token" (worker_id())
  double age_s = 0;    ///< since the last heartbeat, by the store's clock
};

/// What a study holds at one moment: its evaluations in index order and its live claims.
struct StudySnapshot {
  std::vector<EvaluationRecord> evaluations;
  std::vector<PendingRecord> pending;
};

struct ClaimOptions {
  std::string worker;  ///< this worker's worker_id()
  int budget = 0;      ///< evaluations the study stops at (stored + pending never exceed it)
  /// A claim whose heartbeat is older than this is abandoned (its worker killed or its
  /// machine lost) and taken over; a claim of a dead process on this host, at once.
  double stale_after_s = 60;
};

/// The result of StudyStore::claim.
struct Claim {
  enum Kind {
    kAsked,      ///< a new candidate, chosen by the caller's chooser, now pending
    kTakenOver,  ///< an abandoned claim, now this worker's (its genotype as stored)
    kWait,       ///< the budget is reached counting live claims of other workers: poll again
    kDone,       ///< the budget is reached by stored evaluations
  };
  Kind kind = kDone;
  PendingRecord pending;   ///< kAsked, kTakenOver: the candidate to evaluate
  std::string taken_from;  ///< kTakenOver: the worker that abandoned it
  StudySnapshot snapshot;  ///< the study as the claim saw it (before this claim)
};

/// Chooses the next candidate given the study's evaluations and live claims: the genotype
/// code and label to reserve at `index`.
using Chooser =
    std::function<std::pair<std::string, std::string>(const StudySnapshot& snapshot, int index)>;

/// This process's worker name: "host:pid:token", unique among workers.
const std::string& worker_id();
/// Whether `claim` is abandoned: older than `stale_after_s`, or of a process of this host that
/// no longer runs.
bool abandoned(const PendingRecord& claim, double stale_after_s);

/// The decision of a claim on `snapshot` (every stored evaluation and every claim, abandoned
/// ones included), which the stores apply in their transaction: the first abandoned claim (or
/// one of this worker's own, left by an evaluation that failed) is taken over; else a new candidate
/// is chosen at the lowest free index while stored and pending stay under the budget; else wait
/// (live claims) or done.
Claim decide_claim(StudySnapshot snapshot, const ClaimOptions& options, const Chooser& choose);

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

  /// Under the study's lock, in one transaction: takes over an abandoned claim when there is
  /// one; else, when stored evaluations and live claims are fewer than the budget, reserves
  /// the lowest free index for the candidate `choose` returns (called under the lock, so that
  /// no two workers choose alike); else says whether to wait for other workers or stop.
  virtual Claim claim(const std::string& name, const ClaimOptions& options,
                      const Chooser& choose) = 0;
  /// Renews `worker`'s claim of evaluation `index`; false when it is no longer the worker's
  /// (taken over, or stored). Safe to call from another thread than the store's other calls.
  virtual bool heartbeat(const std::string& name, int index, const std::string& worker) = 0;
  /// Stores a claimed evaluation and removes its claim, in one transaction. False (nothing
  /// written) when that index is stored already: a worker that took the claim over finished
  /// first; the evaluation is never counted twice.
  virtual bool complete(const std::string& name, const EvaluationRecord& record) = 0;
  /// Claims the final measurement of evaluation `index` (note "final/INDEX") for
  /// options.worker, under the study's lock: false when it is measured already or another live
  /// worker holds it; an abandoned claim is taken over. Renewed by heartbeat(name,
  /// final_claim_index(index), worker).
  virtual bool claim_final(const std::string& name, int index, const ClaimOptions& options) = 0;
  /// Writes note "final/INDEX" and releases its claim, in one transaction.
  virtual void complete_final(const std::string& name, int index, const std::string& note) = 0;
};

/// The claim row of evaluation `index`'s final measurement: -1 - index (evaluations are >= 0).
inline int final_claim_index(int index) { return -1 - index; }
/// Whether a final measurement may be claimed: not `measured`, and `held` (the claim row, if
/// any) absent, this worker's, or abandoned.
bool may_claim_final(const PendingRecord* held, bool measured, const ClaimOptions& options);

/// The errors every store gives (core::InputError, `where` its path): no study `name`
/// (naming the studies `held`), and study `name` stored with other settings.
[[noreturn]] void throw_missing_study(const std::string& where, const std::string& name,
                                      const std::vector<std::string>& held);
[[noreturn]] void throw_other_settings(const std::string& where, const std::string& name,
                                       const std::string& stored, const std::string& given);

/// Opens the store `spec` names: a postgresql:// (or postgres://) URL, or an SQLite file path.
std::unique_ptr<StudyStore> open_store(const std::string& spec);
/// Whether `spec` names a server rather than a file.
bool is_server_url(const std::string& spec);

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
  Claim claim(const std::string& name, const ClaimOptions& options, const Chooser& choose) override;
  bool heartbeat(const std::string& name, int index, const std::string& worker) override;
  bool complete(const std::string& name, const EvaluationRecord& record) override;
  bool claim_final(const std::string& name, int index, const ClaimOptions& options) override;
  void complete_final(const std::string& name, int index, const std::string& note) override;

 private:
  void exec(const std::string& sql) const;
  void insert_evaluation(const std::string& name, const EvaluationRecord& r);
  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::recursive_mutex mutex_;  // heartbeats come from another thread
};

}  // namespace hao::store
