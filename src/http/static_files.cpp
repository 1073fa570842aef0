#include "http/static_files.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <unordered_set>

#include "core/etag.hpp"
#include "http/conditional.hpp"
#include "http/problem.hpp"

namespace vigil::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kGzipSuffix = ".gz";
constexpr std::string_view kAssetsPrefix = "/assets/";
// Vite names what it puts under assets/ by a hash of the content: a new build is a new name.
constexpr std::string_view kCacheAssets = "public, max-age=31536000, immutable";
constexpr std::string_view kCacheRevalidate = "no-cache";

// First path segments that belong to the API and the operators, never to the single-page app:
// an unknown path under them is a 404, not the app's index.html. (assets: a missing asset must
// not come back as HTML with a 200.)
constexpr std::array<std::string_view, 5> kReservedSegments = {"api", "assets", "healthz", "readyz",
                                                               "metrics"};

struct ContentType {
  std::string_view extension;
  std::string_view type;
};
constexpr ContentType kContentTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
};

// "\"<16 hex>\"", or "\"<16 hex>-gz\"" for a gzip variant, so that the two never match each
// other's If-None-Match. The hash only has to tell two builds of a file apart.
std::string ETagFor(std::string_view bytes, bool gzip) {
  return core::StrongETag(core::TagHasher().Add(bytes).Hash64(), {.suffix = gzip ? "-gz" : ""});
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A path relative to the root, as FromMemory takes it: segments separated by '/', none empty,
// "." or "..".
bool IsRelativePath(std::string_view path) {
  if (path.empty()) return false;
  for (std::string_view rest = path;;) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

// Whether `path` is `root` or below it; both canonical.
bool IsWithin(const fs::path& root, const fs::path& path) {
  auto [root_end, path_at] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end();
}

Result<std::string> ReadWholeFile(const fs::path& path, std::string_view name, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes;
  if (in) {
    std::array<char, 64 << 10> chunk;
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
      bytes.append(chunk.data(), static_cast<size_t>(in.gcount()));
      if (bytes.size() > limit) {
        return Fail(ErrorCode::kInvalidArgument, std::string(name) + " grew while it was read");
      }
    }
  }
  if (!in.eof()) {
    return Fail(ErrorCode::kUnavailable, "cannot read " + std::string(name));
  }
  return bytes;
}

Error TooLarge(size_t limit) {
  const std::string amount = limit % (size_t{1} << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                                            : std::to_string(limit) + " bytes";
  return Error(ErrorCode::kInvalidArgument,
               "the web root holds more than " + amount +
                   " of files; is it the UI's build output (web/dist)?");
}

}  // namespace

std::string_view ContentTypeFor(std::string_view name) {
  size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string_view extension = name.substr(dot + 1);
  for (const ContentType& c : kContentTypes) {
    if (EqualsIgnoreCase(c.extension, extension)) return c.type;
  }
  return "application/octet-stream";
}

bool AcceptsGzip(std::string_view header) {
  std::optional<bool> gzip;  // named: its q decides
  bool any = false;          // "*" with a q above 0
  for (std::string_view rest = header; !rest.empty();) {
    size_t comma = rest.find(',');
    std::string_view member = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t semicolon = member.find(';');
    std::string_view coding = Trim(member.substr(0, semicolon));
    bool acceptable = true;
    while (semicolon != std::string_view::npos) {
      member.remove_prefix(semicolon + 1);
      semicolon = member.find(';');
      std::string_view param = Trim(member.substr(0, semicolon));
      if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
      std::string_view value = param.substr(2);
      double q = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
      // A malformed weight accepts nothing rather than guess.
      acceptable = ec == std::errc() && end == value.data() + value.size() && q > 0;
    }
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      gzip = gzip.value_or(false) || acceptable;
    } else if (coding == "*") {
      any = any || acceptable;
    }
  }
  return gzip.value_or(any);
}

Result<std::shared_ptr<const StaticFiles>> StaticFiles::Load(const std::string& root_name,
                                                             StaticFilesOptions options) {
  std::error_code ec;
  const fs::path root = fs::canonical(root_name, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return Fail(ErrorCode::kInvalidArgument, "'" + root_name + "' is not a directory");
  }
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> skipped;
  size_t total = 0;
  // Symlinked directories are not followed (they could loop, or lead anywhere); symlinked files
  // are, when their target is inside the root.
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().lexically_relative(root).generic_string();
    fs::file_status status = entry.symlink_status(ec);
    if (ec) break;
    fs::path source = entry.path();
    if (fs::is_symlink(status)) {
      std::error_code target_ec;
      fs::path target = fs::canonical(source, target_ec);
      if (target_ec) {
        skipped.push_back(name + ": a broken symlink");
        continue;
      }
      if (!IsWithin(root, target)) {
        skipped.push_back(name + ": a symlink that leaves the web root");
        continue;
      }
      status = fs::status(target, target_ec);
      if (fs::is_directory(status)) {
        skipped.push_back(name + ": a symlinked directory (not followed)");
        continue;
      }
      source = std::move(target);
    } else if (fs::is_directory(status)) {
      continue;  // its files come next
    }
    if (!fs::is_regular_file(status)) {
      skipped.push_back(name + ": not a regular file");
      continue;
    }
    // Checked before reading: a root pointed at the wrong directory fails fast.
    const uintmax_t size = fs::file_size(source, ec);
    if (ec) break;
    if (size > options.max_total_bytes - total) return Fail(TooLarge(options.max_total_bytes));
    Result<std::string> bytes = ReadWholeFile(source, name, options.max_total_bytes - total);
    if (!bytes) return Fail(bytes.error());
    total += bytes->size();
    files.emplace_back(name, std::move(*bytes));
  }
  if (ec) {
    return Fail(ErrorCode::kUnavailable,
                "cannot read the web root '" + root_name + "': " + ec.message());
  }
  Result<std::shared_ptr<StaticFiles>> built = Build(std::move(files), options);
  if (!built) return Fail(built.error());
  StaticFiles& out = **built;
  out.skipped_.insert(out.skipped_.end(), skipped.begin(), skipped.end());
  std::sort(out.skipped_.begin(), out.skipped_.end());
  return std::shared_ptr<const StaticFiles>(std::move(*built));
}

Result<std::shared_ptr<const StaticFiles>> StaticFiles::FromMemory(
    std::vector<std::pair<std::string, std::string>> files, StaticFilesOptions options) {
  Result<std::shared_ptr<StaticFiles>> built = Build(std::move(files), options);
  if (!built) return Fail(built.error());
  return std::shared_ptr<const StaticFiles>(std::move(*built));
}

Result<std::shared_ptr<StaticFiles>> StaticFiles::Build(
    std::vector<std::pair<std::string, std::string>> files, StaticFilesOptions options) {
  std::shared_ptr<StaticFiles> out(new StaticFiles());
  std::unordered_set<std::string_view> names;
  for (const auto& [name, bytes] : files) {
    if (!IsRelativePath(name)) {
      return Fail(ErrorCode::kInvalidArgument, "'" + name + "' is not a path inside the web root");
    }
    if (bytes.size() > options.max_total_bytes - out->total_bytes_) {
      return Fail(TooLarge(options.max_total_bytes));
    }
    out->total_bytes_ += bytes.size();
    names.insert(name);
  }
  auto is_variant = [&names](std::string_view name) {
    return name.ends_with(kGzipSuffix) &&
           names.contains(name.substr(0, name.size() - kGzipSuffix.size()));
  };
  // The files first, then their gzip variants.
  for (auto& [name, bytes] : files) {
    if (is_variant(name)) continue;
    if (name.ends_with(kGzipSuffix)) {
      out->skipped_.push_back(name + ": a .gz without its original");
      continue;
    }
    std::string path = "/" + name;
    File file;
    file.content_type = ContentTypeFor(name);
    file.cache_control = path.starts_with(kAssetsPrefix) ? kCacheAssets : kCacheRevalidate;
    file.identity.etag = ETagFor(bytes, /*gzip=*/false);
    file.identity.bytes = std::make_shared<const std::string>(std::move(bytes));
    out->files_.emplace(std::move(path), std::move(file));
  }
  for (auto& [name, bytes] : files) {
    if (!is_variant(name)) continue;
    auto it = out->files_.find("/" + name.substr(0, name.size() - kGzipSuffix.size()));
    if (it == out->files_.end()) {  // "a.gz.gz" beside "a.gz", itself a variant
      out->skipped_.push_back(name + ": a .gz without its original");
      continue;
    }
    Variant gzip;
    gzip.etag = ETagFor(bytes, /*gzip=*/true);
    gzip.bytes = std::make_shared<const std::string>(std::move(bytes));
    it->second.gzip = std::move(gzip);
  }
  auto index = out->files_.find(std::string_view("/index.html"));
  if (index == out->files_.end()) {
    return Fail(ErrorCode::kInvalidArgument, "the web root has no index.html");
  }
  out->index_ = &index->second;
  std::sort(out->skipped_.begin(), out->skipped_.end());
  return out;
}

const StaticFiles::File* StaticFiles::Find(std::string_view path) const {
  if (path == "/") return index_;
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

const StaticFiles::File* StaticFiles::Resolve(std::string_view path) const {
  if (const File* file = Find(path)) return file;
  if (path.empty() || path.front() != '/') return nullptr;
  std::string_view first = path.substr(1, path.find('/', 1) - 1);
  for (std::string_view reserved : kReservedSegments) {
    if (first == reserved) return nullptr;
  }
  return index_;
}

Response StaticFiles::Serve(const Request& request) const {
  const File* file = Resolve(request.path);
  if (file == nullptr) {
    return Problem(Error(ErrorCode::kNotFound, "no resource at this path"), request);
  }
  const bool gzip = file->gzip && AcceptsGzip(request.Header("accept-encoding"));
  const Variant& variant = gzip ? *file->gzip : file->identity;
  Response response;
  response.headers.reserve(9);
  const bool not_modified = IfNoneMatchMatches(request.Header("if-none-match"), variant.etag);
  if (not_modified) {
    response.status = 304;
  } else {
    response.headers.emplace_back("Content-Type", file->content_type);
    if (gzip) response.headers.emplace_back("Content-Encoding", "gzip");
    response.shared_body = variant.bytes;
  }
  response.headers.emplace_back("Cache-Control", file->cache_control);
  response.headers.emplace_back("ETag", variant.etag);
  if (file->gzip) response.headers.emplace_back("Vary", "Accept-Encoding");
  // A response with its own policy gets none of the server's security headers
  // (http/response_head.hpp), so all three are set here.
  response.headers.emplace_back("Content-Security-Policy", kWebUiContentSecurityPolicy);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  return response;
}

}  // namespace vigil::http
