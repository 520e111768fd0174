#include "gateway/static_files.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <cctype>
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

namespace {
// The q-value of coding in an Accept-Encoding header: nullopt when not listed (nor via "*").
std::optional<double> accepted_q(std::string_view header, std::string_view coding) {
  std::optional<double> star, exact;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view name = item.substr(0, semi);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    name = trim(name);
    double q = 1;
    if (semi != std::string_view::npos) {
      std::string_view param = trim(item.substr(semi + 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        // q-values are at most "1.000" or "0.xyz": read the digits by hand (no locale, no throw).
        std::string_view num = param.substr(2);
        q = 0;
        double scale = 1;
        bool frac = false;
        for (char ch : num) {
          if (ch == '.') frac = true;
          else if (ch >= '0' && ch <= '9') {
            if (frac) q += (ch - '0') * (scale /= 10);
            else q = q * 10 + (ch - '0');
          } else break;
        }
      }
    }
    auto eq = [](std::string_view a, std::string_view b) {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
      return true;
    };
    if (eq(name, coding)) exact = q;
    else if (name == "*") star = q;
  }
  return exact ? exact : star;
}
}  // namespace

std::string_view pick_encoding(std::string_view accept_encoding, bool have_br, bool have_gzip) {
  auto ok = [&](std::string_view c) {
    auto q = accepted_q(accept_encoding, c);
    return q && *q > 0;
  };
  if (have_br && ok("br")) return "br";
  if (have_gzip && ok("gzip")) return "gzip";
  return "";
}

std::optional<http::response<http::string_body>> serve_static_file(const std::string& web_root, const static_request& req) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (web_root.empty() || !fs::is_regular_file(fs::path(web_root) / "index.html", ec)) return std::nullopt;

  http::response<http::string_body> res{http::status::ok, req.version};
  res.set(http::field::server, "confabd");
  res.set("Content-Security-Policy", content_security_policy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(req.keep_alive);

  auto finish = [&] {
    res.prepare_payload();
    if (req.head) {  // the same headers (Content-Length included), no body
      const auto n = res.body().size();
      res.body().clear();
      res.content_length(n);
    }
    return res;
  };
  auto not_found = [&] {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = "not found\n";
    return finish();
  };

  auto rel = safe_relative_path(req.target);
  if (!rel) return not_found();
  if (!req.source_maps && rel->size() >= 4 && rel->ends_with(".map")) return not_found();
  const fs::path file = fs::path(web_root) / *rel;
  if (!fs::is_regular_file(file, ec)) return not_found();
  const fs::path br = fs::path(file).concat(".br"), gz = fs::path(file).concat(".gz");
  const auto enc = pick_encoding(req.accept_encoding, fs::is_regular_file(br, ec), fs::is_regular_file(gz, ec));
  const fs::path& chosen = enc == "br" ? br : enc == "gzip" ? gz : file;
  const auto size = fs::file_size(chosen, ec);
  if (ec || size > max_file_bytes) return not_found();
  std::ifstream in(chosen, std::ios::binary);
  if (!in) return not_found();
  res.body().assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  res.set(http::field::content_type, content_type_for(*rel));
  res.set(http::field::cache_control, cache_control_for(*rel));
  res.set(http::field::vary, "Accept-Encoding");
  if (!enc.empty()) res.set(http::field::content_encoding, enc);
  return finish();
}

}  // namespace confab::gateway
