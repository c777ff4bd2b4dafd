// The shared study store: one PostgreSQL database that hao processes on many machines use as
// stateless workers of the same studies (libpq). Same tables and guarantees as the SQLite
// store, under hao_ names so that they sit beside nothing else's.
#pragma once

#include <mutex>
#include <string>

#include "store/study_store.hpp"

struct pg_conn;

namespace hao::store {

class PostgresStudyStore : public StudyStore {
 public:
  /// Connects to `url` (postgresql://user:password@host:port/database?options, as libpq reads
  /// it; PGHOST, PGUSER, PGPASSWORD ... fill what it leaves out) and creates hao's tables in
  /// an empty database. An unreachable server, refused credentials, or a database that holds
  /// other tables and not hao's: core::InputError naming the URL (password hidden), nothing
  /// written. A connection lost later is retried with back-off for `retry_s` seconds before
  /// StoreError.
  explicit PostgresStudyStore(const std::string& url, double retry_s = 60);
  ~PostgresStudyStore() override;
  PostgresStudyStore(const PostgresStudyStore&) = delete;
  PostgresStudyStore& operator=(const PostgresStudyStore&) = delete;

  const std::string& path() const override { return shown_; }
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

  /// `url` with its password replaced by "***", as messages show it.
  static std::string hide_password(const std::string& url);

 private:
  class Session;
  /// Runs `work` on the connection (a transaction when `work` opens one), reconnecting and
  /// running it again when the connection was lost, for at most retry_s_.
  template <class Work>
  auto with_retry(Work&& work) const;
  std::string url_, shown_;
  double retry_s_;
  pg_conn* conn_ = nullptr;
  mutable std::recursive_mutex mutex_;  // heartbeats come from another thread
};

}  // namespace hao::store
