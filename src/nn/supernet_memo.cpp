#include "nn/supernet_memo.hpp"

#include <sqlite3.h>

#include <fstream>
#include <string_view>

#include "core/error.hpp"
#include "core/fnv1a.hpp"

namespace hao::nn {

std::string file_digest(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw core::InputError(file + ": cannot be read");
  core::Fnv1a h;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    h.add(std::string_view(buffer, static_cast<std::size_t>(in.gcount())));
    if (!in) break;
  }
  return h.hex();
}

namespace {

constexpr const char* kFormat = "hao-supernet-memo-1";

// One prepared statement, finalized when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw core::InputError(path + ": not a hao supernet memo (" + sqlite3_errmsg(db) + ")");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind(int i, const std::string& text) {
    sqlite3_bind_text(stmt_, i, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int column) const {
    const auto* t = sqlite3_column_text(stmt_, column);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

struct SupernetMemo::Db {
  sqlite3* handle = nullptr;
  ~Db() { sqlite3_close(handle); }
};

SupernetMemo::SupernetMemo(const std::string& file) : db_(std::make_unique<Db>()), path_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_->handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK)
    throw core::InputError(file + ": cannot open the supernet memo: " +
                           (db_->handle ? sqlite3_errmsg(db_->handle) : "out of memory"));
  sqlite3_busy_timeout(db_->handle, 30000);
  // A file that is not SQLite fails here, before anything is written to it.
  const char* create =
      "CREATE TABLE IF NOT EXISTS hao_memo_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS memo(kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT "
      "NULL, PRIMARY KEY(kind, key));";
  {
    Statement tables(db_->handle,
                     "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                     "('hao_memo_meta', 'memo')",
                     path_);
    if (tables.step() != SQLITE_ROW || tables.text(0) != "0")
      throw core::InputError(file + ": an SQLite database but not a hao supernet memo (it holds " +
                             "other tables); it was left untouched");
  }
  char* why = nullptr;
  if (sqlite3_exec(db_->handle, create, nullptr, nullptr, &why) != SQLITE_OK) {
    const std::string message = why ? why : "unknown error";
    sqlite3_free(why);
    throw core::InputError(file + ": not a hao supernet memo (" + message + ")");
  }
  Statement meta(db_->handle, "INSERT OR IGNORE INTO hao_memo_meta VALUES('format', ?1)", path_);
  meta.bind(1, kFormat);
  meta.step();
  Statement format(db_->handle, "SELECT value FROM hao_memo_meta WHERE key = 'format'", path_);
  if (format.step() != SQLITE_ROW || format.text(0) != kFormat)
    throw core::InputError(file + ": a supernet memo of another format ('" + format.text(0) +
                           "', expected '" + kFormat + "'); it was left untouched");
}

SupernetMemo::~SupernetMemo() = default;

std::optional<nlohmann::json> SupernetMemo::find(const std::string& kind,
                                                 const std::string& key) const {
  Statement s(db_->handle, "SELECT value FROM memo WHERE kind = ?1 AND key = ?2", path_);
  s.bind(1, kind);
  s.bind(2, key);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  auto value = nlohmann::json::parse(s.text(0), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::vector<std::string> SupernetMemo::keys(const std::string& kind,
                                            const std::string& prefix) const {
  Statement s(db_->handle,
              "SELECT key FROM memo WHERE kind = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY "
              "rowid",
              path_);
  s.bind(1, kind);
  s.bind(2, prefix);
  std::vector<std::string> out;
  while (s.step() == SQLITE_ROW) out.push_back(s.text(0));
  return out;
}

void SupernetMemo::put(const std::string& kind, const std::string& key,
                       const nlohmann::json& value) {
  Statement s(db_->handle, "INSERT OR REPLACE INTO memo VALUES(?1, ?2, ?3)", path_);
  s.bind(1, kind);
  s.bind(2, key);
  s.bind(3, value.dump());
  if (s.step() != SQLITE_DONE)
    throw core::RunFailure(path_ +
                           ": cannot write the supernet memo: " + sqlite3_errmsg(db_->handle));
}

}  // namespace hao::nn
