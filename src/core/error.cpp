#include "core/error.hpp"

namespace confab {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "confab"; }
  std::string message(int ev) const override { return std::string(error_name(static_cast<errc>(ev))); }
};

}  // namespace

const boost::system::error_category& confab_category() noexcept {
  static const category c;
  return c;
}

std::string_view error_name(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::malformed: return "malformed";
    case errc::unknown_op: return "unknown_op";
    case errc::missing_field: return "missing_field";
    case errc::invalid_field: return "invalid_field";
    case errc::invalid_utf8: return "invalid_utf8";
    case errc::too_large: return "too_large";
    case errc::text_too_long: return "text_too_long";
    case errc::unauthenticated: return "unauthenticated";
    case errc::invalid_credentials: return "invalid_credentials";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::rate_limited: return "rate_limited";
    case errc::unavailable: return "unavailable";
    case errc::internal: return "internal";
    case errc::slow_mode: return "slow_mode";
    case errc::limit_reached: return "limit_reached";
  }
  return "internal";
}

unsigned http_status(errc e) noexcept {
  switch (e) {
    case errc::ok: return 200;
    case errc::malformed:
    case errc::missing_field:
    case errc::invalid_field:
    case errc::invalid_utf8:
    case errc::text_too_long: return 400;
    case errc::unknown_op: return 404;
    case errc::too_large: return 413;
    case errc::unauthenticated:
    case errc::invalid_credentials: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::rate_limited: return 429;
    case errc::unavailable: return 503;
    case errc::internal: return 500;
    case errc::slow_mode: return 429;
    case errc::limit_reached: return 409;
  }
  return 500;
}

bool retryable(errc e) noexcept { return e == errc::rate_limited || e == errc::unavailable; }

}  // namespace confab
