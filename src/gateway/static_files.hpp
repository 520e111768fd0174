// The browser client's built assets (web/dist), served read-only at "/" by the HTTP session.
//
// Pure path handling (safe_relative_path, content_type_for) plus one function that reads a file
// under the web root and builds the response. GET only; the caller decides that. Files are small
// (a bundle and a stylesheet) and read synchronously on the calling connection's strand.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace confab::gateway {

// The request target (query already removed) as a path relative to the web root, or nullopt when
// it is not a plain path: anything outside [A-Za-z0-9._-/], percent-encoded bytes (so no encoded
// "..", "/" or NUL), empty or dot-only segments ("..", "."), a "//", a trailing "/" other than
// the root, or more than 256 bytes. "/" maps to "index.html".
std::optional<std::string> safe_relative_path(std::string_view target);

// The Content-Type for a file name, by extension; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view path);

// The Cache-Control for a relative path: files under assets/ carry a content hash in their name
// and are immutable; everything else (index.html) is revalidated on every load.
std::string_view cache_control_for(std::string_view rel_path);

// Which precompressed variant of a file to send for an Accept-Encoding header: "br" when br is
// accepted, else "gzip" when gzip is accepted, else "" (identity). A coding with q=0 is refused.
std::string_view pick_encoding(std::string_view accept_encoding, bool have_br, bool have_gzip);

struct static_request {
  std::string_view target;           // query removed
  std::string_view accept_encoding;  // the request's Accept-Encoding ("" if absent)
  bool head = false;                 // HEAD: the headers of GET, no body
  bool source_maps = false;          // whether *.map files are published
  unsigned version = 11;
  bool keep_alive = true;
};

// Builds the response for a GET or HEAD from the files under web_root: 200 with the file, or 404
// (text/plain) for an unsafe path, a missing file, a directory, or a source map (*.map) unless
// source_maps. A file with a precompressed sibling (file.br, file.gz, written by the client's
// build) is sent in the best encoding the client accepts, with Content-Encoding; every file
// response carries Vary: Accept-Encoding. Every response carries the security headers
// (Content-Security-Policy, X-Content-Type-Options, Referrer-Policy). Returns nullopt when
// web_root has no index.html, so the caller can fall back to its built-in page.
std::optional<boost::beast::http::response<boost::beast::http::string_body>> serve_static_file(
    const std::string& web_root, const static_request& req);

// The Content-Security-Policy sent with every static response: same-origin scripts, styles and
// connections (WebSocket included), no inline script, no framing.
extern const std::string_view content_security_policy;

}  // namespace confab::gateway
