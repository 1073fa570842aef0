// Databases on the test PostgreSQL server, for the tests that need a real one.
//
// The server is the one the ctest fixture "postgres" starts (scripts/test-postgres.sh), whose URL
// is in a file of the build tree; VIGIL_TEST_POSTGRES_URL (postgresql://user:password@host:port,
// no database) names another instead. Without either, the tests fail with a message that says
// how to start one: they never skip.
//
// Each test gets a database of its own (CREATE DATABASE through an administrator's connection),
// so tests are independent under ctest -j. The server is thrown away after the run, so databases
// are not dropped.
#pragma once

#include <optional>
#include <string>

namespace vigil::test {

// The test server's URL without a database, or nullopt with `why` set.
std::optional<std::string> TestPostgresServer(std::string* why);

// A new, empty database named `name` (dropped first if it exists) on the test server; returns its
// URL. "" after a test failure that says why.
std::string MakePostgresDatabase(const std::string& name);

// The URL of the database of the test whose temporary directory is `dir`: made on first use
// (a file in `dir` remembers it), the same database after that, so that a store opened again on
// the same directory finds its data. "" after a test failure.
std::string PostgresDatabaseFor(const std::string& dir);

// Runs `sql` as the superuser on `database` (by default the server's administrative one); returns
// the first column of the first row ("" when none), or nullopt after a test failure.
std::optional<std::string> RunAdminSql(const std::string& sql,
                                       const std::string& database = "postgres");

// The database name of a URL MakePostgresDatabase returned.
std::string DatabaseOf(const std::string& url);

// A PostgreSQL server of the test's own (scripts/test-postgres.sh with a state folder of its
// own), for the tests that stop and start it as an outage would: the fixture's server is shared
// by the tests running at the same time. Stopped and removed when destroyed.
class OwnPostgresServer {
 public:
  // Starts it (initdb, a free port): a few seconds. url() is "" after a test failure.
  explicit OwnPostgresServer(const std::string& state_dir);
  ~OwnPostgresServer();
  OwnPostgresServer(const OwnPostgresServer&) = delete;
  OwnPostgresServer& operator=(const OwnPostgresServer&) = delete;

  // postgresql://user:password@127.0.0.1:port, no database.
  const std::string& url() const { return url_; }
  // A new, empty database on it; returns its URL ("" after a test failure).
  std::string MakeDatabase(const std::string& name);
  // pg_ctl stop -m fast (every session ended, the port closed), keeping the data; and start
  // again on the same port. False after a test failure.
  bool Pause();
  bool Resume();

 private:
  bool Run(const std::string& action);
  std::string state_dir_;
  std::string url_;
};

}  // namespace vigil::test
