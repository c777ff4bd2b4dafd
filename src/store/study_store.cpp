#include "store/study_store.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/postgres_store.hpp"

namespace hao::store {
namespace {

constexpr const char* kFormat = "hao-study-store-1";

/// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& path) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      throw StoreError(path + ": " + sqlite3_errmsg(db) + " (in: " + sql + ")");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& bind_int(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  /// SQLITE_ROW or SQLITE_DONE; anything else is returned for the caller to name.
  int step() { return sqlite3_step(stmt_); }
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(stmt_, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  double real(int c) const { return sqlite3_column_double(stmt_, c); }
  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

bool looks_like_sqlite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[16] = {};
  in.read(head, 16);
  return in.gcount() == 16 && std::string(head, 16) == std::string("SQLite format 3\0", 16);
}

std::string host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "unknown-host";
  return host;
}

}  // namespace

const std::string& worker_id() {
  // Per process: a forked child is another worker than its parent.
  static pid_t owner = 0;
  static std::string id;
  if (owner != getpid()) {
    owner = getpid();
    std::random_device rd;
    char token[9];
    std::snprintf(token, sizeof token, "%08x", rd());
    id = host_name() + ":" + std::to_string(owner) + ":" + token;
  }
  return id;
}

bool abandoned(const PendingRecord& claim, double stale_after_s) {
  if (claim.age_s > stale_after_s) return true;
  // "host:pid:token": a process of this host that is gone released its claim at once.
  const auto parts = core::split(claim.worker, ':');
  if (parts.size() != 3 || parts[0] != host_name()) return false;
  double pid = 0;
  if (!core::parse_double(parts[1], pid) || pid < 1) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

Claim decide_claim(StudySnapshot snapshot, const ClaimOptions& options, const Chooser& choose) {
  std::set<int> used;
  for (const auto& e : snapshot.evaluations) used.insert(e.index);
  Claim c;
  for (const auto& p : snapshot.pending)
    // One of this worker's own claims is left over from an evaluation that failed in this
    // process (a worker holds one claim at a time).
    if (!used.count(p.index) &&
        (p.worker == options.worker || abandoned(p, options.stale_after_s))) {
      c.kind = Claim::kTakenOver;
      c.pending = p;
      c.pending.worker = options.worker;
      c.pending.age_s = 0;
      c.taken_from = p.worker;
      c.snapshot = std::move(snapshot);
      return c;
    }
  for (const auto& p : snapshot.pending) used.insert(p.index);
  if (used.size() >= static_cast<std::size_t>(std::max(0, options.budget))) {
    c.kind = snapshot.evaluations.size() >= static_cast<std::size_t>(std::max(0, options.budget))
                 ? Claim::kDone
                 : Claim::kWait;
    c.snapshot = std::move(snapshot);
    return c;
  }
  int index = 0;
  while (used.count(index)) ++index;
  c.kind = Claim::kAsked;
  c.pending.index = index;
  c.pending.worker = options.worker;
  std::tie(c.pending.genotype, c.pending.label) = choose(snapshot, index);
  c.snapshot = std::move(snapshot);
  return c;
}

bool may_claim_final(const PendingRecord* held, bool measured, const ClaimOptions& options) {
  if (measured) return false;
  return held == nullptr || held->worker == options.worker ||
         abandoned(*held, options.stale_after_s);
}

void throw_missing_study(const std::string& where, const std::string& name,
                         const std::vector<std::string>& held) {
  throw core::InputError(
      where + ": no study '" + name + "'" +
      (held.empty() ? " (the store holds none)" : "; it holds " + core::join(held, ", ")));
}

void throw_other_settings(const std::string& where, const std::string& name,
                          const std::string& stored, const std::string& given) {
  throw core::InputError(where + ": study '" + name + "' exists with other settings:\n  stored: " +
                         stored + "\n  given:  " + given +
                         "\nchoose another --study name, or repeat the stored settings to resume");
}

bool is_server_url(const std::string& spec) {
  return spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0;
}

std::unique_ptr<StudyStore> open_store(const std::string& spec) {
  if (is_server_url(spec)) return std::make_unique<PostgresStudyStore>(spec);
  return std::make_unique<SqliteStudyStore>(spec);
}

SqliteStudyStore::SqliteStudyStore(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool fresh = !fs::exists(path, ec) || fs::file_size(path, ec) == 0;
  if (!fresh && !looks_like_sqlite(path))
    throw core::InputError(path +
                           ": not a hao study store (not an SQLite database); give "
                           "--storage a new file or one hao wrote");
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw core::InputError(path + ": cannot open the study store: " + why);
  }
  sqlite3_busy_timeout(db_, 30000);
  if (!fresh) {
    // An existing database must be ours before anything is written to it. One without any
    // table is another hao process's that is creating its tables this moment.
    Statement s(db_,
                "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'), (SELECT "
                "COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'hao_meta')",
                path_);
    const bool read = s.step() == SQLITE_ROW;
    const bool ours = read && s.integer(1) == 1;
    std::string format;
    if (ours) {
      Statement f(db_, "SELECT value FROM hao_meta WHERE key = 'format'", path_);
      if (f.step() == SQLITE_ROW) format = f.text(0);
    }
    if (!read || (s.integer(0) > 0 && (!ours || format != kFormat))) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw core::InputError(path +
                             ": an SQLite database but not a hao study store (no hao_meta "
                             "format '" +
                             kFormat + "'); it was left untouched");
    }
  }
  // Another process may be switching the file to WAL this moment: that waits for no busy
  // handler, so it is tried again.
  for (int attempt = 0;; ++attempt) {
    if (sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) == SQLITE_OK) break;
    if (sqlite3_errcode(db_) != SQLITE_BUSY || attempt == 3000) exec("PRAGMA journal_mode=WAL");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  exec("PRAGMA synchronous=FULL");
  exec("BEGIN IMMEDIATE");
  exec("CREATE TABLE IF NOT EXISTS hao_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  exec(std::string("INSERT OR IGNORE INTO hao_meta VALUES('format', '") + kFormat + "')");
  exec(
      "CREATE TABLE IF NOT EXISTS study(name TEXT PRIMARY KEY, settings TEXT NOT NULL, "
      "created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)");
  exec(
      "CREATE TABLE IF NOT EXISTS evaluation(study TEXT NOT NULL REFERENCES study(name), "
      "idx INTEGER NOT NULL, genotype TEXT NOT NULL, label TEXT NOT NULL, bits TEXT, hardware "
      "TEXT, accuracy REAL, latency_ms REAL, fps REAL, dsp REAL, lut REAL, bram36 REAL, wall_s "
      "REAL, seed INTEGER, extra TEXT, written TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, "
      "PRIMARY KEY(study, idx))");
  exec(
      "CREATE TABLE IF NOT EXISTS note(study TEXT NOT NULL REFERENCES study(name), key TEXT NOT "
      "NULL, value TEXT, PRIMARY KEY(study, key))");
  // The candidates being evaluated; heartbeat in Unix seconds.
  exec(
      "CREATE TABLE IF NOT EXISTS pending(study TEXT NOT NULL REFERENCES study(name), idx "
      "INTEGER NOT NULL, genotype TEXT NOT NULL, label TEXT NOT NULL, worker TEXT NOT NULL, "
      "heartbeat REAL NOT NULL, PRIMARY KEY(study, idx))");
  exec("COMMIT");
}

SqliteStudyStore::~SqliteStudyStore() { sqlite3_close(db_); }

void SqliteStudyStore::exec(const std::string& sql) const {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string why = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    if (sql != "ROLLBACK") sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw StoreError(path_ + ": " + why);
  }
}

bool SqliteStudyStore::has_study(const std::string& name) const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT 1 FROM study WHERE name = ?", path_);
  s.bind(1, name);
  return s.step() == SQLITE_ROW;
}

std::string SqliteStudyStore::settings(const std::string& name) const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT settings FROM study WHERE name = ?", path_);
  s.bind(1, name);
  if (s.step() != SQLITE_ROW) throw_missing_study(path_, name, studies());
  return s.text(0);
}

std::vector<std::string> SqliteStudyStore::studies() const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT name FROM study ORDER BY created, name", path_);
  std::vector<std::string> out;
  while (s.step() == SQLITE_ROW) out.push_back(s.text(0));
  return out;
}

bool SqliteStudyStore::open_study(const std::string& name, const std::string& settings_json) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  Statement s(db_, "SELECT settings FROM study WHERE name = ?", path_);
  s.bind(1, name);
  if (s.step() == SQLITE_ROW) {
    const std::string stored = s.text(0);
    exec("COMMIT");
    if (stored != settings_json) throw_other_settings(path_, name, stored, settings_json);
    return true;
  }
  Statement insert(db_, "INSERT INTO study(name, settings) VALUES(?, ?)", path_);
  insert.bind(1, name).bind(2, settings_json);
  if (insert.step() != SQLITE_DONE) {
    const std::string why = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    throw StoreError(path_ + ": cannot create study '" + name + "': " + why);
  }
  exec("COMMIT");
  return false;
}

std::vector<EvaluationRecord> SqliteStudyStore::evaluations(const std::string& name) const {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT idx, genotype, label, bits, hardware, accuracy, latency_ms, fps, dsp, lut, "
              "bram36, wall_s, seed, extra FROM evaluation WHERE study = ? ORDER BY idx",
              path_);
  s.bind(1, name);
  std::vector<EvaluationRecord> out;
  while (s.step() == SQLITE_ROW) {
    EvaluationRecord r;
    r.index = static_cast<int>(s.integer(0));
    r.genotype = s.text(1);
    r.label = s.text(2);
    r.bits = s.text(3);
    r.hardware = s.text(4);
    r.accuracy = s.real(5);
    r.latency_ms = s.real(6);
    r.fps = s.real(7);
    r.dsp = s.real(8);
    r.lut = s.real(9);
    r.bram36 = s.real(10);
    r.wall_s = s.real(11);
    r.seed = static_cast<std::uint64_t>(s.integer(12));
    r.extra = s.text(13);
    out.push_back(std::move(r));
  }
  return out;
}

void SqliteStudyStore::insert_evaluation(const std::string& name, const EvaluationRecord& r) {
  Statement s(db_,
              "INSERT INTO evaluation(study, idx, genotype, label, bits, hardware, accuracy, "
              "latency_ms, fps, dsp, lut, bram36, wall_s, seed, extra) VALUES(?, ?, ?, ?, ?, ?, "
              "?, ?, ?, ?, ?, ?, ?, ?, ?)",
              path_);
  s.bind(1, name).bind_int(2, r.index).bind(3, r.genotype).bind(4, r.label).bind(5, r.bits);
  s.bind(6, r.hardware).bind(7, r.accuracy).bind(8, r.latency_ms).bind(9, r.fps).bind(10, r.dsp);
  s.bind(11, r.lut)
      .bind(12, r.bram36)
      .bind(13, r.wall_s)
      .bind_int(14, static_cast<std::int64_t>(r.seed));
  s.bind(15, r.extra);
  if (s.step() != SQLITE_DONE) {
    const std::string why = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    throw StoreError(path_ + ": cannot write evaluation " + std::to_string(r.index) + ": " + why);
  }
}

void SqliteStudyStore::add(const std::string& name, const EvaluationRecord& r) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  Statement count(db_, "SELECT COUNT(*) FROM evaluation WHERE study = ?", path_);
  count.bind(1, name);
  count.step();
  const std::int64_t next = count.integer(0);
  if (next != r.index) {
    exec("ROLLBACK");
    throw StoreError(path_ + ": study '" + name + "' has " + std::to_string(next) +
                     " evaluations, this is number " + std::to_string(r.index + 1) +
                     ": another process is running the same study; run one process per study");
  }
  insert_evaluation(name, r);
  exec("COMMIT");
}

namespace {
constexpr const char* kNowSeconds = "((julianday('now') - 2440587.5) * 86400.0)";
}  // namespace

Claim SqliteStudyStore::claim(const std::string& name, const ClaimOptions& options,
                              const Chooser& choose) {
  std::lock_guard lock(mutex_);
  // BEGIN IMMEDIATE takes the file's write lock: claims of all processes are serialized.
  exec("BEGIN IMMEDIATE");
  try {
    StudySnapshot snapshot;
    snapshot.evaluations = evaluations(name);
    Statement s(db_,
                std::string("SELECT idx, genotype, label, worker, ") + kNowSeconds +
                    " - heartbeat FROM pending WHERE study = ? AND idx >= 0 ORDER BY idx",
                path_);
    s.bind(1, name);
    while (s.step() == SQLITE_ROW)
      snapshot.pending.push_back(
          {static_cast<int>(s.integer(0)), s.text(1), s.text(2), s.text(3), s.real(4)});
    Claim c = decide_claim(std::move(snapshot), options, choose);
    if (c.kind == Claim::kAsked || c.kind == Claim::kTakenOver) {
      Statement w(db_,
                  c.kind == Claim::kAsked
                      ? std::string("INSERT INTO pending(study, idx, genotype, label, worker, "
                                    "heartbeat) VALUES(?1, ?2, ?3, ?4, ?5, ") +
                            kNowSeconds + ")"
                      : std::string("UPDATE pending SET worker = ?5, heartbeat = ") + kNowSeconds +
                            " WHERE study = ?1 AND idx = ?2",
                  path_);
      w.bind(1, name).bind_int(2, c.pending.index).bind(5, c.pending.worker);
      if (c.kind == Claim::kAsked) w.bind(3, c.pending.genotype).bind(4, c.pending.label);
      if (w.step() != SQLITE_DONE)
        throw StoreError(path_ + ": cannot claim evaluation " + std::to_string(c.pending.index) +
                         ": " + sqlite3_errmsg(db_));
    }
    exec("COMMIT");
    return c;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

bool SqliteStudyStore::heartbeat(const std::string& name, int index, const std::string& worker) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              std::string("UPDATE pending SET heartbeat = ") + kNowSeconds +
                  " WHERE study = ? AND idx = ? AND worker = ?",
              path_);
  s.bind(1, name).bind_int(2, index).bind(3, worker);
  if (s.step() != SQLITE_DONE)
    throw StoreError(path_ + ": cannot renew claim " + std::to_string(index) + ": " +
                     sqlite3_errmsg(db_));
  return sqlite3_changes(db_) == 1;
}

bool SqliteStudyStore::complete(const std::string& name, const EvaluationRecord& r) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  Statement stored(db_, "SELECT 1 FROM evaluation WHERE study = ? AND idx = ?", path_);
  stored.bind(1, name).bind_int(2, r.index);
  const bool fresh = stored.step() != SQLITE_ROW;
  if (fresh) insert_evaluation(name, r);
  Statement release(db_, "DELETE FROM pending WHERE study = ? AND idx = ?", path_);
  release.bind(1, name).bind_int(2, r.index);
  if (release.step() != SQLITE_DONE) {
    const std::string why = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    throw StoreError(path_ + ": cannot release claim " + std::to_string(r.index) + ": " + why);
  }
  exec("COMMIT");
  return fresh;
}

bool SqliteStudyStore::claim_final(const std::string& name, int index,
                                   const ClaimOptions& options) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Statement measured(db_, "SELECT 1 FROM note WHERE study = ? AND key = ?", path_);
    measured.bind(1, name).bind(2, "final/" + std::to_string(index));
    const bool done = measured.step() == SQLITE_ROW;
    Statement held(db_,
                   std::string("SELECT worker, ") + kNowSeconds +
                       " - heartbeat FROM pending WHERE study = ? AND idx = ?",
                   path_);
    held.bind(1, name).bind_int(2, final_claim_index(index));
    PendingRecord row;
    const bool exists = held.step() == SQLITE_ROW;
    if (exists) row = {final_claim_index(index), "", "final", held.text(0), held.real(1)};
    const bool ours = may_claim_final(exists ? &row : nullptr, done, options);
    if (ours) {
      Statement w(db_,
                  std::string("INSERT OR REPLACE INTO pending(study, idx, genotype, label, worker, "
                              "heartbeat) VALUES(?, ?, '', 'final', ?, ") +
                      kNowSeconds + ")",
                  path_);
      w.bind(1, name).bind_int(2, final_claim_index(index)).bind(3, options.worker);
      if (w.step() != SQLITE_DONE)
        throw StoreError(path_ + ": cannot claim final " + std::to_string(index) + ": " +
                         sqlite3_errmsg(db_));
    }
    exec("COMMIT");
    return ours;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteStudyStore::complete_final(const std::string& name, int index,
                                      const std::string& note_json) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    put_note(name, "final/" + std::to_string(index), note_json);
    Statement release(db_, "DELETE FROM pending WHERE study = ? AND idx = ?", path_);
    release.bind(1, name).bind_int(2, final_claim_index(index));
    if (release.step() != SQLITE_DONE)
      throw StoreError(path_ + ": cannot release final " + std::to_string(index) + ": " +
                       sqlite3_errmsg(db_));
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteStudyStore::put_note(const std::string& name, const std::string& key,
                                const std::string& value) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "INSERT OR REPLACE INTO note(study, key, value) VALUES(?, ?, ?)", path_);
  s.bind(1, name).bind(2, key).bind(3, value);
  if (s.step() != SQLITE_DONE)
    throw StoreError(path_ + ": cannot write note: " + sqlite3_errmsg(db_));
}

std::string SqliteStudyStore::note(const std::string& name, const std::string& key) const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT value FROM note WHERE study = ? AND key = ?", path_);
  s.bind(1, name).bind(2, key);
  return s.step() == SQLITE_ROW ? s.text(0) : "";
}

}  // namespace hao::store
