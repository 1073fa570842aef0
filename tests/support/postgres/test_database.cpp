#include "support/postgres/test_database.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

std::optional<std::string> RunAdminSql(const std::string& sql, const std::string& database) {
  std::string why;
  auto server = TestPostgresServer(&why);
  if (!server) {
    ADD_FAILURE() << why;
    return std::nullopt;
  }
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb((*server + "/" + database).c_str()),
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

std::string MakePostgresDatabase(const std::string& name) {
  std::string why;
  auto server = TestPostgresServer(&why);
  if (!server) {
    ADD_FAILURE() << why;
    return "";
  }
  // Names come from the tests (letters, digits, '_', '-'); quoted, so case and '-' are kept.
  if (!RunAdminSql("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)")) return "";
  if (!RunAdminSql("CREATE DATABASE \"" + name + "\"")) return "";
  return *server + "/" + name;
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
