#include "store/postgres_store.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace hao::store {
namespace {

constexpr const char* kFormat = "hao-study-store-1";

/// The connection broke (server gone, network lost): the operation may be run again.
class ConnectionLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// A query's result that clears itself.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  double real(int row, int col) const { return std::strtod(PQgetvalue(r_, row, col), nullptr); }
  long long integer(int row, int col) const {
    return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
  }
  ExecStatusType status() const { return PQresultStatus(r_); }
  /// Rows a command changed.
  int changed() const { return std::atoi(PQcmdTuples(r_)); }

 private:
  PGresult* r_;
};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char* kEvaluationColumns =
    "idx, genotype, label, bits, hardware, accuracy, latency_ms, fps, dsp, lut, bram36, wall_s, "
    "seed, extra";

std::vector<std::string> evaluation_values(const std::string& study, const EvaluationRecord& r) {
  return {study,
          std::to_string(r.index),
          r.genotype,
          r.label,
          r.bits,
          r.hardware,
          number(r.accuracy),
          number(r.latency_ms),
          number(r.fps),
          number(r.dsp),
          number(r.lut),
          number(r.bram36),
          number(r.wall_s),
          std::to_string(static_cast<long long>(r.seed)),
          r.extra};
}

EvaluationRecord evaluation_row(const Result& q, int i) {
  EvaluationRecord r;
  r.index = static_cast<int>(q.integer(i, 0));
  r.genotype = q.text(i, 1);
  r.label = q.text(i, 2);
  r.bits = q.text(i, 3);
  r.hardware = q.text(i, 4);
  r.accuracy = q.real(i, 5);
  r.latency_ms = q.real(i, 6);
  r.fps = q.real(i, 7);
  r.dsp = q.real(i, 8);
  r.lut = q.real(i, 9);
  r.bram36 = q.real(i, 10);
  r.wall_s = q.real(i, 11);
  r.seed = static_cast<std::uint64_t>(q.integer(i, 12));
  r.extra = q.text(i, 13);
  return r;
}

}  // namespace

/// The statements of one operation on the connection; a transaction it opens and does not
/// commit is rolled back.
class PostgresStudyStore::Session {
 public:
  Session(pg_conn* conn, const std::string& shown) : conn_(conn), shown_(shown) {}
  ~Session() {
    if (open_) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Result run(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    if (r.status() == PGRES_COMMAND_OK || r.status() == PGRES_TUPLES_OK) return r;
    const std::string why = trimmed(PQerrorMessage(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD) {
      open_ = false;
      throw ConnectionLost(why);
    }
    throw StoreError(shown_ + ": " + why + " (in: " + sql + ")");
  }
  void begin() {
    run("BEGIN");
    open_ = true;
  }
  void commit() {
    run("COMMIT");
    open_ = false;
  }
  /// Takes study `name`'s row lock until the transaction ends: claims and completions of all
  /// workers are serialized by it.
  void lock_study(const std::string& name) {
    run("SELECT 1 FROM hao_study WHERE name = $1 FOR UPDATE", {name});
  }
  std::vector<EvaluationRecord> evaluations(const std::string& name) {
    const Result r = run(std::string("SELECT ") + kEvaluationColumns +
                             " FROM hao_evaluation WHERE study = $1 ORDER BY idx",
                         {name});
    std::vector<EvaluationRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(evaluation_row(r, i));
    return out;
  }
  void put_note(const std::string& name, const std::string& key, const std::string& value) {
    run("INSERT INTO hao_note(study, key, value) VALUES($1, $2, $3) ON CONFLICT (study, key) DO "
        "UPDATE SET value = EXCLUDED.value",
        {name, key, value});
  }

 private:
  pg_conn* conn_;
  const std::string& shown_;
  bool open_ = false;
};

std::string PostgresStudyStore::hide_password(const std::string& url) {
  std::string s = url;
  const std::size_t scheme = s.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t at = s.find('@', start);
    const std::size_t slash = s.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const std::size_t colon = s.find(':', start);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  const std::size_t key = s.find("password=");
  if (key != std::string::npos) {
    const std::size_t end = s.find('&', key);
    s.replace(key + 9, (end == std::string::npos ? s.size() : end) - key - 9, "***");
  }
  return s;
}

PostgresStudyStore::PostgresStudyStore(const std::string& url, double retry_s)
    : url_(url), shown_(hide_password(url)), retry_s_(retry_s) {
  // The URL's own settings win over these defaults (later keywords override earlier ones).
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "hao", url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw core::InputError(shown_ + ": cannot connect to the study store: " + why);
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);  // "already exists, skipping"
  Session s(conn_, shown_);
  s.begin();
  // One creator at a time: workers starting together race to create the tables.
  s.run("SELECT pg_advisory_xact_lock(7270001)");
  if (s.run("SELECT to_regclass('hao_meta') IS NOT NULL").text(0, 0) == "t") {
    const Result f = s.run("SELECT value FROM hao_meta WHERE key = 'format'");
    if (f.rows() != 1 || f.text(0, 0) != kFormat)
      throw core::InputError(shown_ + ": its hao_meta table is not a hao study store's (format '" +
                             std::string(f.rows() ? f.text(0, 0) : "") + "', expected '" + kFormat +
                             "'); it was left untouched");
  } else {
    const Result other = s.run(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "ORDER BY table_name LIMIT 3");
    if (other.rows() > 0) {
      std::string names;
      for (int i = 0; i < other.rows(); ++i) names += (i ? ", " : "") + other.text(i, 0);
      throw core::InputError(shown_ + ": the database holds another program's tables (" + names +
                             (other.rows() == 3 ? ", ..." : "") +
                             ") and not hao's; give --storage an empty database or one hao "
                             "wrote. It was left untouched");
    }
    s.run("CREATE TABLE hao_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    s.run("INSERT INTO hao_meta VALUES('format', $1)", {kFormat});
    s.run(
        "CREATE TABLE hao_study(name TEXT PRIMARY KEY, settings TEXT NOT NULL, created "
        "TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
    s.run(
        "CREATE TABLE hao_evaluation(study TEXT NOT NULL REFERENCES hao_study(name), idx "
        "INTEGER NOT NULL, genotype TEXT NOT NULL, label TEXT NOT NULL, bits TEXT, hardware TEXT, "
        "accuracy DOUBLE PRECISION, latency_ms DOUBLE PRECISION, fps DOUBLE PRECISION, dsp DOUBLE "
        "PRECISION, lut DOUBLE PRECISION, bram36 DOUBLE PRECISION, wall_s DOUBLE PRECISION, seed "
        "BIGINT, extra TEXT, written TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), PRIMARY "
        "KEY(study, idx))");
    s.run(
        "CREATE TABLE hao_note(study TEXT NOT NULL REFERENCES hao_study(name), key TEXT NOT NULL, "
        "value TEXT, PRIMARY KEY(study, key))");
    s.run(
        "CREATE TABLE hao_pending(study TEXT NOT NULL REFERENCES hao_study(name), idx INTEGER NOT "
        "NULL, genotype TEXT NOT NULL, label TEXT NOT NULL, worker TEXT NOT NULL, heartbeat "
        "TIMESTAMPTZ NOT NULL, PRIMARY KEY(study, idx))");
  }
  s.commit();
}

PostgresStudyStore::~PostgresStudyStore() { PQfinish(conn_); }

template <class Work>
auto PostgresStudyStore::with_retry(Work&& work) const {
  std::lock_guard lock(mutex_);
  const auto start = std::chrono::steady_clock::now();
  double pause_s = 0.5;
  for (;;) {
    try {
      Session s(conn_, shown_);
      return work(s);
    } catch (const ConnectionLost& lost) {
      // Reconnect with back-off; the operation runs again from its start (each is one
      // transaction, and the writes are idempotent or checked).
      for (;;) {
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (waited > retry_s_)
          throw StoreError(shown_ + ": the connection to the study store was lost (" + lost.what() +
                           ") and not regained in " + std::to_string(static_cast<int>(retry_s_)) +
                           " s");
        std::this_thread::sleep_for(std::chrono::duration<double>(pause_s));
        pause_s = std::min(pause_s * 2, 5.0);
        PQreset(conn_);
        if (PQstatus(conn_) == CONNECTION_OK) break;
      }
    }
  }
}

bool PostgresStudyStore::has_study(const std::string& name) const {
  return with_retry([&](Session& s) {
    return s.run("SELECT 1 FROM hao_study WHERE name = $1", {name}).rows() == 1;
  });
}

std::string PostgresStudyStore::settings(const std::string& name) const {
  const Result r = with_retry(
      [&](Session& s) { return s.run("SELECT settings FROM hao_study WHERE name = $1", {name}); });
  if (r.rows() != 1) throw_missing_study(shown_, name, studies());
  return r.text(0, 0);
}

std::vector<std::string> PostgresStudyStore::studies() const {
  return with_retry([&](Session& s) {
    const Result r = s.run("SELECT name FROM hao_study ORDER BY created, name");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

bool PostgresStudyStore::open_study(const std::string& name, const std::string& settings_json) {
  const std::string stored = with_retry([&](Session& s) {
    s.begin();
    const bool created = s.run(
                              "INSERT INTO hao_study(name, settings) VALUES($1, $2) ON "
                              "CONFLICT (name) DO NOTHING RETURNING name",
                              {name, settings_json})
                             .rows() == 1;
    const Result r = s.run("SELECT settings FROM hao_study WHERE name = $1", {name});
    s.commit();
    return created ? std::string() : r.text(0, 0);  // "": created by this call
  });
  if (stored.empty()) return false;
  if (stored != settings_json) throw_other_settings(shown_, name, stored, settings_json);
  return true;
}

std::vector<EvaluationRecord> PostgresStudyStore::evaluations(const std::string& name) const {
  return with_retry([&](Session& s) { return s.evaluations(name); });
}

namespace {
const char* kInsertEvaluation =
    "INSERT INTO hao_evaluation(study, idx, genotype, label, bits, hardware, accuracy, "
    "latency_ms, fps, dsp, lut, bram36, wall_s, seed, extra) VALUES($1, $2, $3, $4, $5, $6, $7, "
    "$8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (study, idx) DO NOTHING";
}  // namespace

void PostgresStudyStore::add(const std::string& name, const EvaluationRecord& r) {
  with_retry([&](Session& s) {
    s.begin();
    s.lock_study(name);
    const long long next =
        s.run("SELECT COUNT(*) FROM hao_evaluation WHERE study = $1", {name}).integer(0, 0);
    if (next != r.index)
      throw StoreError(shown_ + ": study '" + name + "' has " + std::to_string(next) +
                       " evaluations, this is number " + std::to_string(r.index + 1));
    s.run(kInsertEvaluation, evaluation_values(name, r));
    s.commit();
    return 0;
  });
}

void PostgresStudyStore::put_note(const std::string& name, const std::string& key,
                                  const std::string& value) {
  with_retry([&](Session& s) {
    s.put_note(name, key, value);
    return 0;
  });
}

std::string PostgresStudyStore::note(const std::string& name, const std::string& key) const {
  return with_retry([&](Session& s) {
    const Result r = s.run("SELECT value FROM hao_note WHERE study = $1 AND key = $2", {name, key});
    return r.rows() ? r.text(0, 0) : std::string();
  });
}

Claim PostgresStudyStore::claim(const std::string& name, const ClaimOptions& options,
                                const Chooser& choose) {
  return with_retry([&](Session& s) {
    s.begin();
    // The study's row lock serializes claims and completions of all workers.
    s.lock_study(name);
    StudySnapshot snapshot;
    snapshot.evaluations = s.evaluations(name);
    const Result p = s.run(
        "SELECT idx, genotype, label, worker, EXTRACT(EPOCH FROM clock_timestamp() - heartbeat) "
        "FROM hao_pending WHERE study = $1 AND idx >= 0 ORDER BY idx",
        {name});
    for (int i = 0; i < p.rows(); ++i)
      snapshot.pending.push_back({static_cast<int>(p.integer(i, 0)), p.text(i, 1), p.text(i, 2),
                                  p.text(i, 3), p.real(i, 4)});
    Claim c = decide_claim(std::move(snapshot), options, choose);
    const std::string index = std::to_string(c.pending.index);
    if (c.kind == Claim::kAsked)
      s.run(
          "INSERT INTO hao_pending(study, idx, genotype, label, worker, heartbeat) VALUES($1, $2, "
          "$3, $4, $5, clock_timestamp())",
          {name, index, c.pending.genotype, c.pending.label, c.pending.worker});
    else if (c.kind == Claim::kTakenOver)
      s.run(
          "UPDATE hao_pending SET worker = $3, heartbeat = clock_timestamp() WHERE study = $1 AND "
          "idx = $2",
          {name, index, c.pending.worker});
    s.commit();
    return c;
  });
}

bool PostgresStudyStore::heartbeat(const std::string& name, int index, const std::string& worker) {
  return with_retry([&](Session& s) {
    return s.run(
                "UPDATE hao_pending SET heartbeat = clock_timestamp() WHERE study = $1 AND idx = "
                "$2 AND worker = $3",
                {name, std::to_string(index), worker})
               .changed() == 1;
  });
}

bool PostgresStudyStore::complete(const std::string& name, const EvaluationRecord& r) {
  return with_retry([&](Session& s) {
    s.begin();
    s.lock_study(name);
    // Run again after a lost connection whose COMMIT had landed, the insert changes nothing:
    // the evaluation is there once either way.
    const bool fresh = s.run(kInsertEvaluation, evaluation_values(name, r)).changed() == 1;
    s.run("DELETE FROM hao_pending WHERE study = $1 AND idx = $2", {name, std::to_string(r.index)});
    s.commit();
    return fresh;
  });
}

bool PostgresStudyStore::claim_final(const std::string& name, int index,
                                     const ClaimOptions& options) {
  const std::string row = std::to_string(final_claim_index(index));
  return with_retry([&](Session& s) {
    s.begin();
    s.lock_study(name);
    const bool done = s.run("SELECT 1 FROM hao_note WHERE study = $1 AND key = $2",
                            {name, "final/" + std::to_string(index)})
                          .rows() == 1;
    const Result held = s.run(
        "SELECT worker, EXTRACT(EPOCH FROM clock_timestamp() - heartbeat) FROM hao_pending "
        "WHERE study = $1 AND idx = $2",
        {name, row});
    PendingRecord claim;
    if (held.rows() == 1)
      claim = {final_claim_index(index), "", "final", held.text(0, 0), held.real(0, 1)};
    const bool ours = may_claim_final(held.rows() == 1 ? &claim : nullptr, done, options);
    if (ours)
      s.run(
          "INSERT INTO hao_pending(study, idx, genotype, label, worker, heartbeat) VALUES($1, $2, "
          "'', 'final', $3, clock_timestamp()) ON CONFLICT (study, idx) DO UPDATE SET worker = "
          "EXCLUDED.worker, heartbeat = EXCLUDED.heartbeat",
          {name, row, options.worker});
    s.commit();
    return ours;
  });
}

void PostgresStudyStore::complete_final(const std::string& name, int index,
                                        const std::string& note_json) {
  with_retry([&](Session& s) {
    s.begin();
    s.put_note(name, "final/" + std::to_string(index), note_json);
    s.run("DELETE FROM hao_pending WHERE study = $1 AND idx = $2",
          {name, std::to_string(final_claim_index(index))});
    s.commit();
    return 0;
  });
}

}  // namespace hao::store
