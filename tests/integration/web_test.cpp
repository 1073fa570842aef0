// The web UI's files, end to end: a real server with --web-root pointing at a directory the test
// writes, as the UI's build would.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/http_client.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace fs = std::filesystem;

constexpr char kUiPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
constexpr char kApiPolicy[] = "default-src 'none'; frame-ancestors 'none'";
constexpr char kIndex[] =
    "<!doctype html><html><head><script type=module src=/assets/app-1234.js></script></head>"
    "<body><div id=root></div></body></html>";
constexpr char kScript[] = "document.getElementById('root').textContent = 'vigil';";
// Not really gzip: the server sends the sibling's bytes as they are.
constexpr char kScriptGz[] = "\x1f\x8b\x08 the gzip sibling";
constexpr char kFavicon[] = "<svg xmlns='http://www.w3.org/2000/svg'/>";

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Writes what `npm run build` would: index.html, a hashed asset with its gzip sibling, a favicon.
std::string WriteWebRoot(const std::string& dir) {
  fs::path root = fs::path(dir) / "dist";
  WriteFile(root / "index.html", kIndex);
  WriteFile(root / "assets/app-1234.js", kScript);
  WriteFile(root / "assets/app-1234.js.gz", kScriptGz);
  WriteFile(root / "favicon.svg", kFavicon);
  return root.string();
}

// How many header lines of a raw response have this name (any case).
int CountHeader(const std::string& raw, const std::string& name) {
  std::string head = raw.substr(0, raw.find("\r\n\r\n"));
  std::string lower_head = head;
  std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string needle = "\r\n" + name + ":";
  std::transform(needle.begin(), needle.end(), needle.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  int count = 0;
  for (size_t at = lower_head.find(needle); at != std::string::npos;
       at = lower_head.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Runs `vigil serve` with `args` to its exit (at most 20 s); returns the exit code and the log.
int RunServe(const std::string& dir, const std::string& args, std::string& output) {
  std::string log = dir + "/serve.log";
  std::string command = std::string("VIGIL_JWT_SECRET=") + kTestJwtSecret + " timeout 20 " +
                        VIGIL_BINARY + " serve --listen 127.0.0.1:0 --db " + dir + "/vigil.db " +
                        args + " > " + log + " 2>&1";
  int status = std::system(command.c_str());
  std::ifstream in(log);
  output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    web_root_ = WriteWebRoot(dir_);
    VigilOptions options;
    options.db_path = dir_ + "/vigil.db";
    options.extra_args = {"--web-root", web_root_};
    server_ = VigilProcess::Start(options);
    ASSERT_TRUE(server_);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string dir_;
  std::string web_root_;
  std::unique_ptr<VigilProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(WebTest, TheRootIsIndexHtmlWithTheUiPolicyOnce) {
  for (const char* path : {"/", "/index.html"}) {
    HttpResult r = client_->Get(path);
    ASSERT_EQ(r.status, 200) << path << r.error;
    EXPECT_EQ(r.body, kIndex);
    EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.Header("cache-control"), "no-cache");
    // Repeated headers would come back joined with ", ".
    EXPECT_EQ(r.Header("content-security-policy"), kUiPolicy);
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
    EXPECT_FALSE(r.Header("etag").empty());
    EXPECT_FALSE(r.Header("x-request-id").empty());
    EXPECT_EQ(r.Header("x-ratelimit-limit"), "");
  }
  std::string raw =
      RawExchange(server_->port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 200 OK\r\n")) << raw;
  EXPECT_EQ(CountHeader(raw, "content-security-policy"), 1) << raw;
  EXPECT_EQ(CountHeader(raw, "x-content-type-options"), 1) << raw;
  EXPECT_EQ(CountHeader(raw, "referrer-policy"), 1) << raw;
}

TEST_F(WebTest, TheAppsOwnPathsGetIndexHtml) {
  for (const char* path : {"/investigations/inv_x", "/new", "/signin", "/investigations/"}) {
    HttpResult r = client_->Get(path);
    ASSERT_EQ(r.status, 200) << path << r.error;
    EXPECT_EQ(r.body, kIndex) << path;
    EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(r.Header("cache-control"), "no-cache") << path;
    EXPECT_EQ(r.Header("content-security-policy"), kUiPolicy) << path;
  }
}

TEST_F(WebTest, AssetsAreImmutableAndGzippedWhenAsked) {
  HttpResult plain = client_->Get("/assets/app-1234.js");
  ASSERT_EQ(plain.status, 200) << plain.error;
  EXPECT_EQ(plain.body, kScript);
  EXPECT_EQ(plain.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(plain.Header("content-encoding"), "");
  EXPECT_EQ(plain.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(plain.Header("content-security-policy"), kUiPolicy);

  HttpResult gz = client_->Get("/assets/app-1234.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(gz.status, 200) << gz.error;
  EXPECT_EQ(gz.body, kScriptGz);
  EXPECT_EQ(gz.Header("content-encoding"), "gzip");
  EXPECT_EQ(gz.Header("content-length"), std::to_string(std::string(kScriptGz).size()));
  EXPECT_EQ(gz.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(gz.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_NE(gz.Header("etag"), plain.Header("etag"));

  HttpResult favicon = client_->Get("/favicon.svg", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(favicon.status, 200) << favicon.error;
  EXPECT_EQ(favicon.body, kFavicon);
  EXPECT_EQ(favicon.Header("content-type"), "image/svg+xml");
  EXPECT_EQ(favicon.Header("cache-control"), "no-cache");
  EXPECT_EQ(favicon.Header("content-encoding"), "") << "no .gz sibling";
  EXPECT_EQ(favicon.Header("vary"), "");

  EXPECT_EQ(client_->Get("/assets/app-1234.js.gz").status, 404) << "a variant, not a URL";
}

TEST_F(WebTest, AMatchingETagIs304) {
  HttpResult plain = client_->Get("/assets/app-1234.js");
  ASSERT_EQ(plain.status, 200) << plain.error;
  const std::string etag = plain.Header("etag");
  HttpResult again = client_->Get("/assets/app-1234.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(again.Header("etag"), etag);
  EXPECT_EQ(again.Header("content-security-policy"), kUiPolicy);

  HttpResult gz = client_->Get("/assets/app-1234.js", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(gz.status, 200) << gz.error;
  HttpResult gz_again = client_->Get(
      "/assets/app-1234.js", {{"Accept-Encoding", "gzip"}, {"If-None-Match", gz.Header("etag")}});
  EXPECT_EQ(gz_again.status, 304);
  HttpResult other_variant =
      client_->Get("/assets/app-1234.js", {{"Accept-Encoding", "gzip"}, {"If-None-Match", etag}});
  EXPECT_EQ(other_variant.status, 200) << "the identity tag does not validate the gzip bytes";
  EXPECT_EQ(other_variant.body, kScriptGz);

  HttpResult index = client_->Get("/");
  EXPECT_EQ(client_->Get("/", {{"If-None-Match", index.Header("etag")}}).status, 304);
  EXPECT_EQ(client_->connections(), 1);
}

TEST_F(WebTest, MissingAssetsAndUnknownApiPathsStay404Problems) {
  for (const char* path : {"/assets/missing.js", "/api/v1/nope", "/api"}) {
    HttpResult r = client_->Get(path);
    ASSERT_EQ(r.status, 404) << path << r.error;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << path;
    EXPECT_EQ(r.Json().at("type"), "urn:vigil:problem:not_found") << path;
    EXPECT_EQ(r.Header("content-security-policy"), kApiPolicy) << path;
  }
  // The API is as it was: its routes still need a token.
  EXPECT_EQ(client_->Get("/api/v1/investigations").status, 401);
  EXPECT_EQ(client_->Get("/healthz").status, 200);
  EXPECT_EQ(client_->Get("/healthz").Header("content-security-policy"), kApiPolicy);
}

TEST_F(WebTest, OtherMethodsAre405) {
  HttpResult r = client_->Post("/", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET, HEAD");
  EXPECT_EQ(client_->Request("DELETE", "/assets/app-1234.js").status, 405);
}

TEST_F(WebTest, HeadSendsTheSameHeadersWithoutTheBody) {
  for (const char* path : {"/", "/assets/app-1234.js", "/investigations/inv_x"}) {
    HttpResult get = client_->Get(path, {{"Accept-Encoding", "gzip"}});
    HttpResult head = client_->Request("HEAD", path, "", {{"Accept-Encoding", "gzip"}});
    ASSERT_EQ(head.status, 200) << path << head.error;
    EXPECT_EQ(head.body, "") << path;
    for (const char* name : {"content-type", "content-length", "content-encoding", "etag",
                             "cache-control", "vary", "content-security-policy"}) {
      EXPECT_EQ(head.Header(name), get.Header(name)) << path << " " << name;
    }
  }
  EXPECT_EQ(client_->connections(), 1) << "no stray body after a HEAD";
}

TEST(WebRootTest, WithoutAWebRootTheRootIs404) {
  std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  auto server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  for (const char* path : {"/", "/index.html", "/investigations/inv_x"}) {
    HttpResult r = client.Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << path;
  }
}

TEST(WebRootTest, ABadWebRootStopsTheServer) {
  std::string dir = MakeTempDir();
  std::string output;
  EXPECT_EQ(RunServe(dir, "--web-root " + dir + "/nowhere", output), 2);
  EXPECT_NE(output.find("--web-root / VIGIL_WEB_ROOT: '" + dir + "/nowhere' is not a directory"),
            std::string::npos)
      << output;

  fs::create_directories(dir + "/empty");
  EXPECT_EQ(RunServe(dir, "--web-root " + dir + "/empty", output), 2);
  EXPECT_NE(output.find("has no index.html"), std::string::npos) << output;

  WriteWebRoot(dir);
  EXPECT_EQ(RunServe(dir, "--web-root " + dir + "/dist/index.html", output), 2) << "a file";
  EXPECT_NE(output.find("is not a directory"), std::string::npos) << output;

  // The same from the environment.
  std::string log = dir + "/env.log";
  std::string command = std::string("VIGIL_JWT_SECRET=") + kTestJwtSecret +
                        " VIGIL_WEB_ROOT=" + dir + "/empty timeout 20 " + VIGIL_BINARY +
                        " serve --listen 127.0.0.1:0 --db " + dir + "/vigil.db > " + log + " 2>&1";
  int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  fs::remove_all(dir);
}

TEST(WebRootTest, TheUiIsNeverRateLimited) {
  std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  options.extra_args = {"--web-root", WriteWebRoot(dir)};
  options.env = {{"RATE_LIMIT_ENABLED", "true"},
                 {"RATE_LIMIT_MAX_REQUESTS", "2"},
                 {"RATE_LIMIT_WINDOW_SECONDS", "3600"}};
  auto server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  for (int i = 0; i < 50; ++i) {
    for (const char* path : {"/", "/assets/app-1234.js", "/investigations/inv_x"}) {
      HttpResult r = client.Get(path);
      ASSERT_EQ(r.status, 200) << path << " #" << i;
      EXPECT_EQ(r.Header("x-ratelimit-limit"), "") << path;
    }
  }
  // The API's limit holds meanwhile: the default budget of 2 is spent on the third list.
  Headers alice = {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})}};
  EXPECT_EQ(client.Get("/api/v1/investigations", alice).status, 200);
  EXPECT_EQ(client.Get("/api/v1/investigations", alice).status, 200);
  EXPECT_EQ(client.Get("/api/v1/investigations", alice).status, 429);
  EXPECT_EQ(client.Get("/").status, 200);
}

}  // namespace
}  // namespace vigil::test
