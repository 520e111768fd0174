// Confab's one error enum, shared by storage, the API, HTTP and WebSocket.
//
// Expected failures are values (boost::system::result<T>); exceptions are bugs.
// Every code has a stable wire name (docs/protocol.md lists them) and an HTTP status.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab {

enum class errc {
  ok = 0,
  malformed = 1,         // not JSON, or JSON that is not an object
  unknown_op,            // an operation or endpoint the server does not know
  missing_field,         // a required field is absent
  invalid_field,         // a field has the wrong type or an out-of-range value
  invalid_utf8,          // text that is not valid UTF-8
  too_large,             // a frame or body over the size limit
  text_too_long,         // message text over the configured limit
  unauthenticated,       // no token, an unknown token, or a revoked device
  invalid_credentials,   // wrong username or password
  forbidden,             // authenticated, but not allowed (not a member, wrong role)
  not_found,             // no such conversation, user or device
  conflict,              // a unique thing already exists (username taken)
  rate_limited,          // too many requests from this device; retry later
  unavailable,           // storage temporarily failed; retry is safe
  internal,              // a bug; the server logged it
  // moderation
  slow_mode,             // the conversation's slow mode: wait error::retry_after_ms before posting again
  limit_reached,         // a per-conversation limit is reached (50 pins)
};

const boost::system::error_category& confab_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), confab_category()};
}

// The stable wire name of an error ("not_found"), used in JSON error bodies.
std::string_view error_name(errc e) noexcept;
// The HTTP status a code maps to (404 for not_found ...).
unsigned http_status(errc e) noexcept;
// True where the same request may succeed if simply retried later.
bool retryable(errc e) noexcept;

// An error with a human-readable detail, carried in result<T>.
struct error {
  errc code = errc::internal;
  std::string message;
  // How long to wait before the same request can succeed (slow_mode); sent as "retry_after_ms".
  std::optional<std::int64_t> retry_after_ms;
};

template <class T>
using result = boost::system::result<T, error>;

struct nothing {};

inline error make_error(errc c, std::string msg) { return error{c, std::move(msg)}; }

// Declares var = (expr), a result<T>, and returns its error from the enclosing function (whose
// result holds an error) when it failed. (Storage has CONFAB_TRY, which also converts db errors.)
#define CONFAB_TRY_RESULT(var, expr) \
  auto var = (expr);                 \
  if (!var) return var.error()

}  // namespace confab

namespace boost::system {
template <>
struct is_error_code_enum<confab::errc> : std::true_type {};

// result<T, confab::error>::value() throws this on misuse (a bug).
inline void throw_exception_from_error(const confab::error& e, const boost::source_location& loc) {
  boost::throw_exception(system_error(make_error_code(e.code), e.message), loc);
}
}  // namespace boost::system
