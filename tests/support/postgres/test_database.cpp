#include "support/postgres/test_database.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

namespace vigil::test {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::optional<std::string> TestPostgresServer(std::string* why) {
  if (const char* url = std::getenv("VIGIL_TEST_POSTGRES_URL"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  std::string url = ReadLine(VIGIL_TEST_POSTGRES_URL_FILE);
  if (!url.empty()) return url;
  *why = std::string("no test PostgreSQL server: ") + VIGIL_TEST_POSTGRES_URL_FILE +
         " is missing. Run these tests through ctest (its fixture starts one), or start one with "
         "`scripts/test-postgres.sh start " +
         std::filesystem::path(VIGIL_TEST_POSTGRES_URL_FILE).parent_path().string() +
         "`, or set VIGIL_TEST_POSTGRES_URL";
  return std::nullopt;
}

std::string DatabaseOf(const std::string& url) { return url.substr(url.rfind('/') + 1); }

namespace {

std::optional<std::string> RunSqlOn(const std::string& server, const std::string& sql,
                                    const std::string& database) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb((server + "/" + database).c_str()),
                                                  PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to the test PostgreSQL server: " << PQerrorMessage(conn.get());
    return std::nullopt;
  }
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn.get(), sql.c_str()), PQclear);
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result.get());
    return std::nullopt;
  }
  if (status == PGRES_TUPLES_OK && PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0) {
    return std::string(PQgetvalue(result.get(), 0, 0));
  }
  return std::string();
}

std::string MakeDatabaseOn(const std::string& server, const std::string& name) {
  // Names come from the tests (letters, digits, '_', '-'); quoted, so case and '-' are kept.
  if (!RunSqlOn(server, "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)", "postgres")) {
    return "";
  }
  if (!RunSqlOn(server, "CREATE DATABASE \"" + name + "\"", "postgres")) return "";
  return server + "/" + name;
}

}  // namespace

std::optional<std::string> RunAdminSql(const std::string& sql, const std::string& database) {
  std::string why;
  auto server = TestPostgresServer(&why);
  if (!server) {
    ADD_FAILURE() << why;
    return std::nullopt;
  }
  return RunSqlOn(*server, sql, database);
}

std::string MakePostgresDatabase(const std::string& name) {
  std::string why;
  auto server = TestPostgresServer(&why);
  if (!server) {
    ADD_FAILURE() << why;
    return "";
  }
  return MakeDatabaseOn(*server, name);
}

OwnPostgresServer::OwnPostgresServer(const std::string& state_dir) : state_dir_(state_dir) {
  if (Run("start")) url_ = ReadLine(state_dir_ + "/url");
  if (url_.empty()) ADD_FAILURE() << "the test's own PostgreSQL server did not start";
}

OwnPostgresServer::~OwnPostgresServer() { (void)Run("stop"); }

std::string OwnPostgresServer::MakeDatabase(const std::string& name) {
  return url_.empty() ? "" : MakeDatabaseOn(url_, name);
}

bool OwnPostgresServer::Pause() { return Run("pause"); }
bool OwnPostgresServer::Resume() { return Run("resume"); }

bool OwnPostgresServer::Run(const std::string& action) {
  // The script's output goes to a file beside its state, and into the failure when it fails.
  const std::string log = state_dir_ + "/script.log";
  const std::string command = std::string("'") + VIGIL_TEST_POSTGRES_SCRIPT + "' " + action + " '" +
                              state_dir_ + "' >'" + log + "' 2>&1";
  if (std::system(command.c_str()) == 0) return true;
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ADD_FAILURE() << "scripts/test-postgres.sh " << action << " failed: " << text;
  return false;
}

std::string PostgresDatabaseFor(const std::string& dir) {
  const std::string marker = dir + "/postgres-database";
  std::string url = ReadLine(marker);
  if (!url.empty()) return url;
  url = MakePostgresDatabase("vigil_" + std::filesystem::path(dir).filename().string());
  if (url.empty()) return "";
  std::ofstream(marker) << url << "\n";
  return url;
}

}  // namespace vigil::test
