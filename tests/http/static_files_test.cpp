#include "http/static_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "support/vigil_process.hpp"

namespace vigil::http {
namespace {

namespace fs = std::filesystem;

using Files = std::vector<std::pair<std::string, std::string>>;

constexpr char kIndex[] = "<!doctype html><title>vigil</title><script src=/assets/app-1234.js>";
constexpr char kScript[] = "console.log('vigil');";
constexpr char kScriptGz[] = "\x1f\x8b pretend this is gzip";

Files SomeFiles() {
  return {{"index.html", kIndex},
          {"assets/app-1234.js", kScript},
          {"assets/app-1234.js.gz", kScriptGz},
          {"assets/app-1234.css", "body{}"},
          {"favicon.svg", "<svg/>"}};
}

std::shared_ptr<const StaticFiles> Build(Files files = SomeFiles()) {
  auto built = StaticFiles::FromMemory(std::move(files));
  EXPECT_TRUE(built.has_value()) << built.error().message;
  return built.value_or(nullptr);
}

Request Get(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request request;
  request.method = Method::kGet;
  request.path = std::move(path);
  request.headers = std::move(headers);
  return request;
}

// A directory that is removed with the test.
class TempDir {
 public:
  TempDir() : path_(test::MakeTempDir()) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& bytes) const {
    fs::path file = fs::path(path_) / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
  }

 private:
  std::string path_;
};

TEST(StaticFilesTest, FindsFilesByPathAndTheRootIsIndex) {
  auto files = Build();
  ASSERT_TRUE(files);
  EXPECT_EQ(files->file_count(), 4u) << "the .gz is a variant, not a file";
  ASSERT_NE(files->Find("/"), nullptr);
  EXPECT_EQ(files->Find("/"), files->Find("/index.html"));
  EXPECT_EQ(*files->Find("/index.html")->identity.bytes, kIndex);
  ASSERT_NE(files->Find("/assets/app-1234.js"), nullptr);
  EXPECT_EQ(*files->Find("/assets/app-1234.js")->identity.bytes, kScript);
  EXPECT_EQ(files->Find("/assets/app-1234.js.gz"), nullptr) << "not a URL of its own";
  EXPECT_EQ(files->Find("/assets/missing.js"), nullptr);
  EXPECT_EQ(files->Find("/favicon.svg/"), nullptr);
  EXPECT_EQ(files->Find("favicon.svg"), nullptr);
  EXPECT_EQ(files->total_bytes(), std::string(kIndex).size() + std::string(kScript).size() +
                                      std::string(kScriptGz).size() + 6 + 6);
}

TEST(StaticFilesTest, ContentTypesComeFromTheExtension) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/app-1234.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/worker.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/app-1234.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("logo.PNG"), "image/png");
  EXPECT_EQ(ContentTypeFor("favicon.ico"), "image/x-icon");
  EXPECT_EQ(ContentTypeFor("manifest.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("assets/app-1234.js.map"), "application/json");
  EXPECT_EQ(ContentTypeFor("assets/inter.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("data.bin"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("LICENSE"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.dir/LICENSE"), "application/octet-stream");
}

TEST(StaticFilesTest, AssetsAreImmutableAndEverythingElseRevalidates) {
  auto files = Build();
  ASSERT_TRUE(files);
  EXPECT_EQ(files->Find("/assets/app-1234.js")->cache_control,
            "public, max-age=31536000, immutable");
  EXPECT_EQ(files->Find("/assets/app-1234.css")->cache_control,
            "public, max-age=31536000, immutable");
  EXPECT_EQ(files->Find("/index.html")->cache_control, "no-cache");
  EXPECT_EQ(files->Find("/favicon.svg")->cache_control, "no-cache");
}

TEST(StaticFilesTest, GzipSiblingsAreVariantsWithTheirOwnETag) {
  auto files = Build();
  ASSERT_TRUE(files);
  const StaticFiles::File* script = files->Find("/assets/app-1234.js");
  ASSERT_NE(script, nullptr);
  ASSERT_TRUE(script->gzip.has_value());
  EXPECT_EQ(*script->gzip->bytes, kScriptGz);
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script->identity.etag.size(), 18u) << script->identity.etag;  // "<16 hex>"
  EXPECT_EQ(script->identity.etag.front(), '"');
  EXPECT_TRUE(script->gzip->etag.ends_with("-gz\"")) << script->gzip->etag;
  EXPECT_NE(script->gzip->etag, script->identity.etag);
  EXPECT_FALSE(files->Find("/favicon.svg")->gzip.has_value());
}

TEST(StaticFilesTest, TheETagIsAHashOfTheContent) {
  auto one = Build();
  Files changed = SomeFiles();
  changed[1].second = "console.log('vigil 2');";
  auto two = Build(changed);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(one->Find("/index.html")->identity.etag, two->Find("/index.html")->identity.etag);
  EXPECT_NE(one->Find("/assets/app-1234.js")->identity.etag,
            two->Find("/assets/app-1234.js")->identity.etag);
}

TEST(StaticFilesTest, AGzipWithoutItsOriginalIsSkipped) {
  Files files = SomeFiles();
  files.emplace_back("assets/orphan.js.gz", "gz");
  files.emplace_back("assets/app-1234.js.gz.gz", "gz of a gz");
  auto built = Build(files);
  ASSERT_TRUE(built);
  EXPECT_EQ(built->Find("/assets/orphan.js.gz"), nullptr);
  EXPECT_EQ(built->Find("/assets/orphan.js"), nullptr);
  EXPECT_EQ(built->Find("/assets/app-1234.js.gz"), nullptr);
  EXPECT_EQ(built->skipped(),
            (std::vector<std::string>{"assets/app-1234.js.gz.gz: a .gz without its original",
                                      "assets/orphan.js.gz: a .gz without its original"}));
}

TEST(StaticFilesTest, UnknownPathsOfTheAppResolveToIndex) {
  auto files = Build();
  ASSERT_TRUE(files);
  const StaticFiles::File* index = files->Find("/index.html");
  EXPECT_EQ(files->Resolve("/"), index);
  EXPECT_EQ(files->Resolve("/investigations/inv_x"), index);
  EXPECT_EQ(files->Resolve("/new"), index);
  EXPECT_EQ(files->Resolve("/signin"), index);
  EXPECT_EQ(files->Resolve("/signin/"), index);
  EXPECT_EQ(files->Resolve("/apis"), index);
  EXPECT_EQ(files->Resolve("/favicon.svg"), files->Find("/favicon.svg"));
  EXPECT_EQ(files->Resolve("/assets/app-1234.js"), files->Find("/assets/app-1234.js"));
  // The API's and the operators' paths, and missing assets, are not the app's.
  for (const char* path :
       {"/api", "/api/", "/api/v1/nope", "/assets/missing.js", "/assets", "/assets/app-1234.js.gz",
        "/healthz", "/readyz", "/metrics", "/metrics/x", "", "relative"}) {
    EXPECT_EQ(files->Resolve(path), nullptr) << path;
  }
}

TEST(StaticFilesTest, ServesAFileWithoutCopyingIt) {
  auto files = Build();
  ASSERT_TRUE(files);
  Response response = files->Serve(Get("/favicon.svg"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.shared_body, files->Find("/favicon.svg")->identity.bytes) << "shared";
  EXPECT_EQ(response.Body(), "<svg/>");
  EXPECT_EQ(response.Get("Content-Type"), "image/svg+xml");
  EXPECT_EQ(response.Get("Cache-Control"), "no-cache");
  EXPECT_EQ(response.Get("ETag"), files->Find("/favicon.svg")->identity.etag);
  EXPECT_EQ(response.Get("Vary"), "") << "no gzip variant";
  EXPECT_EQ(response.Get("Content-Encoding"), "");
}

TEST(StaticFilesTest, AnswersCarryTheUiPolicyOnce) {
  auto files = Build();
  ASSERT_TRUE(files);
  for (const Request& request :
       {Get("/"), Get("/assets/app-1234.js"), Get("/new"),
        Get("/favicon.svg", {{"if-none-match", files->Find("/favicon.svg")->identity.etag}})}) {
    Response response = files->Serve(request);
    int policies = 0;
    for (const auto& [name, value] : response.headers) {
      if (EqualsIgnoreCase(name, "content-security-policy")) {
        ++policies;
        EXPECT_EQ(value,
                  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                  "form-action 'self'; frame-ancestors 'none'");
      }
    }
    EXPECT_EQ(policies, 1) << request.path;
    // The server adds none of its own security headers to a response with a policy.
    EXPECT_EQ(response.Get("X-Content-Type-Options"), "nosniff") << request.path;
    EXPECT_EQ(response.Get("Referrer-Policy"), "no-referrer") << request.path;
  }
}

TEST(StaticFilesTest, TheAppsPathsGetIndexHtml) {
  auto files = Build();
  ASSERT_TRUE(files);
  Response response = files->Serve(Get("/investigations/inv_x"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Body(), kIndex);
  EXPECT_EQ(response.Get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(response.Get("Cache-Control"), "no-cache");
}

TEST(StaticFilesTest, GzipWhenAcceptedIdentityOtherwise) {
  auto files = Build();
  ASSERT_TRUE(files);
  const StaticFiles::File* script = files->Find("/assets/app-1234.js");
  Response gz = files->Serve(Get("/assets/app-1234.js", {{"accept-encoding", "gzip, br"}}));
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.Body(), kScriptGz);
  EXPECT_EQ(gz.Get("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.Get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(gz.Get("Vary"), "Accept-Encoding");
  EXPECT_EQ(gz.Get("ETag"), script->gzip->etag);
  EXPECT_EQ(gz.Get("Cache-Control"), "public, max-age=31536000, immutable");

  for (const char* accept : {"", "br", "gzip;q=0", "identity"}) {
    Response plain = files->Serve(Get("/assets/app-1234.js", {{"accept-encoding", accept}}));
    EXPECT_EQ(plain.Body(), kScript) << accept;
    EXPECT_EQ(plain.Get("Content-Encoding"), "") << accept;
    EXPECT_EQ(plain.Get("Vary"), "Accept-Encoding") << accept;
    EXPECT_EQ(plain.Get("ETag"), script->identity.etag) << accept;
  }
}

TEST(StaticFilesTest, AMatchingETagIs304WithoutBody) {
  auto files = Build();
  ASSERT_TRUE(files);
  const StaticFiles::File* script = files->Find("/assets/app-1234.js");
  Response same =
      files->Serve(Get("/assets/app-1234.js", {{"if-none-match", script->identity.etag}}));
  EXPECT_EQ(same.status, 304);
  EXPECT_EQ(same.Body(), "");
  EXPECT_EQ(same.Get("ETag"), script->identity.etag);
  EXPECT_EQ(same.Get("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(same.Get("Vary"), "Accept-Encoding");
  EXPECT_EQ(same.Get("Content-Encoding"), "");

  // Each variant matches its own tag only.
  Response gz = files->Serve(Get(
      "/assets/app-1234.js", {{"accept-encoding", "gzip"}, {"if-none-match", script->gzip->etag}}));
  EXPECT_EQ(gz.status, 304);
  Response other =
      files->Serve(Get("/assets/app-1234.js",
                       {{"accept-encoding", "gzip"}, {"if-none-match", script->identity.etag}}));
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.Body(), kScriptGz);
  Response stale = files->Serve(Get("/assets/app-1234.js", {{"if-none-match", "\"0-old\""}}));
  EXPECT_EQ(stale.status, 200);
}

TEST(StaticFilesTest, ServingAPathItDoesNotKnowIs404Problem) {
  auto files = Build();
  ASSERT_TRUE(files);
  Response response = files->Serve(Get("/assets/missing.js"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.Get("Content-Type"), "application/problem+json");
  EXPECT_EQ(boost::json::parse(response.body).at("type"), "urn:vigil:problem:not_found");
}

TEST(AcceptsGzipTest, ReadsCodingsAndWeights) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("GZip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br, zstd"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
  EXPECT_TRUE(AcceptsGzip(" x-gzip "));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("gzip ; q=0.5"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("*, gzip;q=0")) << "refused by name";
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=often")) << "a malformed weight accepts nothing";
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

TEST(StaticFilesTest, IndexHtmlIsRequired) {
  auto built = StaticFiles::FromMemory({{"app.js", kScript}, {"sub/index.html", kIndex}});
  ASSERT_FALSE(built.has_value());
  EXPECT_EQ(built.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(built.error().message, "the web root has no index.html");
}

TEST(StaticFilesTest, PathsMustStayInsideTheRoot) {
  for (const char* name : {"../secret", "/etc/passwd", "a//b", "a/./b", ""}) {
    auto built = StaticFiles::FromMemory({{"index.html", kIndex}, {name, "x"}});
    ASSERT_FALSE(built.has_value()) << name;
    EXPECT_EQ(built.error().code, ErrorCode::kInvalidArgument) << name;
  }
}

TEST(StaticFilesTest, TheTotalIsBounded) {
  StaticFilesOptions options{.max_total_bytes = 100};
  auto fits = StaticFiles::FromMemory(
      {{"index.html", std::string(60, 'x')}, {"index.html.gz", std::string(40, 'z')}}, options);
  EXPECT_TRUE(fits.has_value());
  auto over = StaticFiles::FromMemory(
      {{"index.html", std::string(60, 'x')}, {"index.html.gz", std::string(41, 'z')}}, options);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(over.error().message.find("more than"), std::string::npos) << over.error().message;
}

TEST(StaticFilesLoadTest, LoadsEveryFileUnderTheRoot) {
  TempDir dir;
  dir.Write("index.html", kIndex);
  dir.Write("assets/app-1234.js", kScript);
  dir.Write("assets/app-1234.js.gz", kScriptGz);
  dir.Write("assets/fonts/inter.woff2", std::string("\0\1\2", 3));
  dir.Write("favicon.svg", "<svg/>");
  auto files = StaticFiles::Load(dir.path());
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_EQ((*files)->file_count(), 4u);
  EXPECT_EQ(*(*files)->Find("/")->identity.bytes, kIndex);
  ASSERT_NE((*files)->Find("/assets/app-1234.js"), nullptr);
  ASSERT_TRUE((*files)->Find("/assets/app-1234.js")->gzip.has_value());
  EXPECT_EQ(*(*files)->Find("/assets/app-1234.js")->gzip->bytes, kScriptGz);
  ASSERT_NE((*files)->Find("/assets/fonts/inter.woff2"), nullptr);
  EXPECT_EQ(*(*files)->Find("/assets/fonts/inter.woff2")->identity.bytes, std::string("\0\1\2", 3));
  EXPECT_EQ((*files)->Find("/assets/fonts/inter.woff2")->content_type, "font/woff2");
  EXPECT_TRUE((*files)->skipped().empty());
}

TEST(StaticFilesLoadTest, TheRootMustBeADirectoryWithIndexHtml) {
  TempDir dir;
  auto missing = StaticFiles::Load(dir.path() + "/nowhere");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("is not a directory"), std::string::npos);

  dir.Write("file", "x");
  auto file = StaticFiles::Load(dir.path() + "/file");
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, ErrorCode::kInvalidArgument);

  dir.Write("app.js", kScript);
  auto no_index = StaticFiles::Load(dir.path());
  ASSERT_FALSE(no_index.has_value());
  EXPECT_EQ(no_index.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_index.error().message, "the web root has no index.html");
}

TEST(StaticFilesLoadTest, AFullerRootIsRefusedBeforeItIsRead) {
  TempDir dir;
  dir.Write("index.html", kIndex);
  dir.Write("assets/big.bin", std::string(2000, 'b'));
  auto files = StaticFiles::Load(dir.path(), {.max_total_bytes = 1024});
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(files.error().message.find("more than"), std::string::npos) << files.error().message;
}

TEST(StaticFilesLoadTest, SymlinksThatLeaveTheRootAreSkipped) {
  TempDir outside;
  outside.Write("secret.txt", "do not serve");
  outside.Write("dir/other.txt", "nor this");
  TempDir dir;
  dir.Write("index.html", kIndex);
  dir.Write("assets/app-1234.js", kScript);
  const fs::path root(dir.path());
  fs::create_symlink(fs::path(outside.path()) / "secret.txt", root / "secret.txt");
  fs::create_symlink("../../" + fs::path(outside.path()).filename().string() + "/secret.txt",
                     root / "assets/relative.txt");  // relative, up and out
  fs::create_directory_symlink(fs::path(outside.path()) / "dir", root / "outdir");
  fs::create_directory_symlink(root / "assets", root / "again");  // inside, but a directory
  fs::create_symlink(root / "nowhere", root / "broken.txt");
  fs::create_symlink("app-1234.js", root / "assets/app.js");  // inside: served
  ASSERT_EQ(mkfifo((root / "pipe").c_str(), 0600), 0);

  auto files = StaticFiles::Load(dir.path());
  ASSERT_TRUE(files.has_value()) << files.error().message;
  for (const char* path : {"/secret.txt", "/assets/relative.txt", "/outdir/other.txt",
                           "/again/app-1234.js", "/broken.txt", "/pipe"}) {
    EXPECT_EQ((*files)->Find(path), nullptr) << path;
  }
  ASSERT_NE((*files)->Find("/assets/app.js"), nullptr);
  EXPECT_EQ(*(*files)->Find("/assets/app.js")->identity.bytes, kScript);
  EXPECT_EQ((*files)->skipped(),
            (std::vector<std::string>{
                "again: a symlinked directory (not followed)",
                "assets/relative.txt: a symlink that leaves the web root",
                "broken.txt: a broken symlink", "outdir: a symlink that leaves the web root",
                "pipe: not a regular file", "secret.txt: a symlink that leaves the web root"}));
}

TEST(StaticFilesLoadTest, TheRootMayItselfBeASymlink) {
  TempDir dir;
  dir.Write("dist/index.html", kIndex);
  fs::create_directory_symlink(fs::path(dir.path()) / "dist", fs::path(dir.path()) / "current");
  auto files = StaticFiles::Load(dir.path() + "/current");
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_EQ(*(*files)->Find("/")->identity.bytes, kIndex);
}

}  // namespace
}  // namespace vigil::http
