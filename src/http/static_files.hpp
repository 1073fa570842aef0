// StaticFiles: the web UI's built files (web/dist), served by vigil at every path the API does not
// use (docs/api.md, "The web UI").
//
// Every regular file under the web root is read into memory once, at start-up, with its content
// type, a strong ETag (a hash of its bytes) and, when the build wrote one, its gzip variant (the
// file's `.gz` sibling, which is not a URL of its own). Nothing is read from the disk after Load,
// so a request can name no file outside the root, whatever its path.
//
// Owns the bytes; a response shares them (Response::shared_body) instead of copying them.
// Immutable after construction, hence thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "http/message.hpp"

namespace vigil::http {

struct StaticFilesOptions {
  // The bytes of every file and gzip variant together; a larger root is refused at start-up.
  size_t max_total_bytes = size_t{64} << 20;
};

class StaticFiles {
 public:
  // One representation of a file.
  struct Variant {
    std::shared_ptr<const std::string> bytes;
    std::string etag;  // quoted; the gzip variant's ends in -gz: "\"<hash>-gz\""
  };
  struct File {
    std::string content_type;
    std::string cache_control;  // a year and immutable under /assets/, no-cache elsewhere
    Variant identity;
    std::optional<Variant> gzip;
  };

  // Reads every regular file under `root` (following a symlink only to a file inside the root).
  // Fails with kInvalidArgument, naming the setting's problem, when `root` is not a directory,
  // has no index.html, or holds more than options.max_total_bytes; with kUnavailable when a file
  // cannot be read. Skipped, and named in skipped(): symlinks that leave the root or are broken,
  // symlinked directories, anything but regular files, and `.gz` files without their original.
  static Result<std::shared_ptr<const StaticFiles>> Load(const std::string& root,
                                                         StaticFilesOptions options = {});
  // The same from files already in memory: (path relative to the root, with '/' separators, e.g.
  // "assets/app-1234.js"; bytes). For tests, and the second half of Load.
  static Result<std::shared_ptr<const StaticFiles>> FromMemory(
      std::vector<std::pair<std::string, std::string>> files, StaticFilesOptions options = {});

  // The file at a URL path (percent-decoded, e.g. "/assets/app-1234.js"); "/" is index.html.
  // Null when there is none.
  const File* Find(std::string_view path) const;
  // What a GET of `path` answers with: the file at `path`, or index.html for a path of the
  // single-page app, which is any path whose first segment is not api, assets, healthz, readyz
  // or metrics (the client-side router shows /investigations/inv_..., /new, /signin). Null
  // otherwise: such a path is the API's, or an asset that does not exist (404).
  const File* Resolve(std::string_view path) const;

  // The answer to a GET or HEAD of `request.path`: 200 with the file (its gzip variant when the
  // request accepts gzip and there is one), 304 when If-None-Match names the chosen variant's
  // ETag, 404 problem+json when Resolve knows nothing at the path. Carries the UI's
  // Content-Security-Policy with nosniff and no-referrer, instead of the API's.
  Response Serve(const Request& request) const;

  size_t file_count() const { return files_.size(); }
  size_t total_bytes() const { return total_bytes_; }
  // What Load left out, and why ("assets/x.js: a symlink that leaves the web root").
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  StaticFiles() = default;
  // FromMemory's work, leaving the result open for Load to add what it skipped.
  static Result<std::shared_ptr<StaticFiles>> Build(
      std::vector<std::pair<std::string, std::string>> files, StaticFilesOptions options);

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // By URL path ("/index.html", "/assets/app-1234.js").
  std::unordered_map<std::string, File, StringHash, std::equal_to<>> files_;
  const File* index_ = nullptr;  // files_'s "/index.html"
  size_t total_bytes_ = 0;
  std::vector<std::string> skipped_;
};

// The Content-Security-Policy of the web UI's files: its own scripts, styles and API only.
inline constexpr std::string_view kWebUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Whether an Accept-Encoding header value accepts gzip (gzip, x-gzip or *, with a q above 0,
// and gzip not refused by name).
bool AcceptsGzip(std::string_view accept_encoding);

// The Content-Type for a file name, by its extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view name);

}  // namespace vigil::http
