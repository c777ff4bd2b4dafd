#include "store/study_store.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

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

}  // namespace

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
    // An existing database must be ours before anything is written to it.
    Statement s(
        db_,
        "SELECT value FROM sqlite_master m, hao_meta WHERE m.name = 'hao_meta' AND key = 'format'",
        path_);
    const int rc = s.step();
    if (rc != SQLITE_ROW || s.text(0) != kFormat) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw core::InputError(path +
                             ": an SQLite database but not a hao study store (no hao_meta "
                             "format '" +
                             kFormat + "'); it was left untouched");
    }
  }
  exec("PRAGMA journal_mode=WAL");
  // FULL: a committed evaluation survives a killed process and a power loss alike.
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
  Statement s(db_, "SELECT 1 FROM study WHERE name = ?", path_);
  s.bind(1, name);
  return s.step() == SQLITE_ROW;
}

std::string SqliteStudyStore::settings(const std::string& name) const {
  Statement s(db_, "SELECT settings FROM study WHERE name = ?", path_);
  s.bind(1, name);
  if (s.step() != SQLITE_ROW) {
    std::string known;
    for (const auto& n : studies()) known += (known.empty() ? "" : ", ") + n;
    throw core::InputError(path_ + ": no study '" + name + "'" +
                           (known.empty() ? " (the store holds none)" : "; it holds " + known));
  }
  return s.text(0);
}

std::vector<std::string> SqliteStudyStore::studies() const {
  Statement s(db_, "SELECT name FROM study ORDER BY created, name", path_);
  std::vector<std::string> out;
  while (s.step() == SQLITE_ROW) out.push_back(s.text(0));
  return out;
}

bool SqliteStudyStore::open_study(const std::string& name, const std::string& settings_json) {
  exec("BEGIN IMMEDIATE");
  Statement s(db_, "SELECT settings FROM study WHERE name = ?", path_);
  s.bind(1, name);
  if (s.step() == SQLITE_ROW) {
    const std::string stored = s.text(0);
    exec("COMMIT");
    if (stored != settings_json)
      throw core::InputError(
          path_ + ": study '" + name + "' exists with other settings:\n  stored: " + stored +
          "\n  given:  " + settings_json +
          "\nchoose another --study name, or repeat the stored settings to resume");
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

void SqliteStudyStore::add(const std::string& name, const EvaluationRecord& r) {
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
  exec("COMMIT");
}

void SqliteStudyStore::put_note(const std::string& name, const std::string& key,
                                const std::string& value) {
  Statement s(db_, "INSERT OR REPLACE INTO note(study, key, value) VALUES(?, ?, ?)", path_);
  s.bind(1, name).bind(2, key).bind(3, value);
  if (s.step() != SQLITE_DONE)
    throw StoreError(path_ + ": cannot write note: " + sqlite3_errmsg(db_));
}

std::string SqliteStudyStore::note(const std::string& name, const std::string& key) const {
  Statement s(db_, "SELECT value FROM note WHERE study = ? AND key = ?", path_);
  s.bind(1, name).bind(2, key);
  return s.step() == SQLITE_ROW ? s.text(0) : "";
}

}  // namespace hao::store
