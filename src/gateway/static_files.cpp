#include "gateway/static_files.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace confab::gateway {
namespace http = boost::beast::http;

const std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {
constexpr std::size_t max_path_bytes = 256;
constexpr std::uintmax_t max_file_bytes = 16 * 1024 * 1024;

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == '/';
}
}  // namespace

std::optional<std::string> safe_relative_path(std::string_view target) {
  if (target.empty() || target.front() != '/' || target.size() > max_path_bytes) return std::nullopt;
  if (target == "/") return std::string("index.html");
  for (char c : target)
    if (!path_char(c)) return std::nullopt;
  std::string_view rest = target.substr(1);
  std::string out;
  // Every segment must be non-empty and contain something other than dots.
  for (;;) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg.find_first_not_of('.') == std::string_view::npos) return std::nullopt;
    out += seg;
    if (slash == std::string_view::npos) break;
    out += '/';
    rest = rest.substr(slash + 1);
  }
  return out;
}

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "webmanifest") return "application/manifest+json";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string_view cache_control_for(std::string_view rel_path) {
  if (rel_path.substr(0, 7) == "assets/") return "public, max-age=31536000, immutable";
  return "no-cache";
}

std::optional<http::response<http::string_body>> serve_static_file(const std::string& web_root,
                                                                   std::string_view target, unsigned version,
                                                                   bool keep_alive) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (web_root.empty() || !fs::is_regular_file(fs::path(web_root) / "index.html", ec)) return std::nullopt;

  http::response<http::string_body> res{http::status::ok, version};
  res.set(http::field::server, "confabd");
  res.set("Content-Security-Policy", content_security_policy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(keep_alive);

  auto not_found = [&] {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = "not found\n";
    res.prepare_payload();
    return res;
  };

  auto rel = safe_relative_path(target);
  if (!rel) return not_found();
  const fs::path file = fs::path(web_root) / *rel;
  if (!fs::is_regular_file(file, ec)) return not_found();
  const auto size = fs::file_size(file, ec);
  if (ec || size > max_file_bytes) return not_found();
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found();
  res.body().assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  res.set(http::field::content_type, content_type_for(*rel));
  res.set(http::field::cache_control, cache_control_for(*rel));
  res.prepare_payload();
  return res;
}

}  // namespace confab::gateway
