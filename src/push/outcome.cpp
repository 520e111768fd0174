// parse_retry_after and map_response (sender.hpp): what a provider's answer means for the queue.
#include "push/sender.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace confab::push {

std::string_view to_string(send_outcome::status s) {
  switch (s) {
    case send_outcome::status::sent: return "sent";
    case send_outcome::status::dead_target: return "dead_target";
    case send_outcome::status::retry: return "retry";
    case send_outcome::status::rejected: return "rejected";
  }
  return "?";
}

namespace {

std::optional<std::int64_t> parse_http_date(const std::string& v) {
  // RFC 9110 section 5.6.7: senders use IMF-fixdate; recipients also accept the two obsolete forms.
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(v.c_str(), fmt, &tm);
    if (end && *end == '\0') return static_cast<std::int64_t>(::timegm(&tm));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now_s) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::int64_t secs = 0;
  if (value.front() >= '0' && value.front() <= '9') {
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
    if (ec == std::errc::result_out_of_range) secs = retry_after_max.count();
    else if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  } else {
    auto at = parse_http_date(std::string(value));
    if (!at) return std::nullopt;
    secs = *at - now_s;
  }
  return std::chrono::seconds(std::clamp<std::int64_t>(secs, 0, retry_after_max.count()));
}

namespace {

// The reason a provider gave, from its error body: APNs {"reason"}, FCM {"error":{"status",
// "message","details":[{"errorCode"}]}}, Web Push services' free text or JSON.
struct reason {
  std::string text;        // for detail
  std::string code;        // APNs reason / FCM errorCode or status
  bool about_token = false;  // FCM: the error names the registration token
};

std::string bounded(std::string_view s, std::size_t n) { return std::string(s.substr(0, n)); }

reason fcm_reason(const boost::json::object& o) {
  reason r;
  const auto* err = o.if_contains("error");
  if (!err || !err->is_object()) return r;
  const auto& e = err->as_object();
  if (const auto* s = e.if_contains("status"); s && s->is_string()) r.code = s->as_string().c_str();
  if (const auto* m = e.if_contains("message"); m && m->is_string()) r.text = m->as_string().c_str();
  if (const auto* d = e.if_contains("details"); d && d->is_array()) {
    for (const auto& item : d->as_array()) {
      if (!item.is_object()) continue;
      if (const auto* c = item.as_object().if_contains("errorCode"); c && c->is_string()) r.code = c->as_string().c_str();
      const auto* fv = item.as_object().if_contains("fieldViolations");
      if (!fv || !fv->is_array()) continue;
      for (const auto& v : fv->as_array())
        if (const auto* f = v.is_object() ? v.as_object().if_contains("field") : nullptr; f && f->is_string())
          r.about_token = r.about_token || f->as_string() == "message.token";
    }
  }
  if (r.text.find("token") != std::string::npos) r.about_token = true;
  return r;
}

reason parse_reason(provider p, std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {bounded(body, detail_max), "", false};
  const auto& o = v.as_object();
  if (p == provider::fcm) {
    reason r = fcm_reason(o);
    if (r.text.empty()) r.text = r.code;
    else if (!r.code.empty()) r.text = r.code + ": " + r.text;
    return r;
  }
  if (const auto* s = o.if_contains("reason"); s && s->is_string()) return {s->as_string().c_str(), s->as_string().c_str(), false};
  return {bounded(body, detail_max), "", false};
}

bool dead(provider p, int status, const reason& why) {
  switch (p) {
    case provider::webpush: return status == 404 || status == 410;
    case provider::fcm: return status == 404 || (status == 400 && why.code == "INVALID_ARGUMENT" && why.about_token);
    case provider::apns:
      return status == 410 || (status == 400 && (why.code == "BadDeviceToken" || why.code == "DeviceTokenNotForTopic"));
  }
  return false;
}

}  // namespace

send_outcome map_response(provider p, const http_response& r, std::int64_t now_s) {
  using st = send_outcome::status;
  send_outcome out;
  out.http_status = r.status;
  if (r.status == 0) {
    out.st = st::retry;
    out.detail = bounded(r.error.empty() ? "no answer" : r.error, detail_max);
    return out;
  }
  const reason why = r.status >= 300 ? parse_reason(p, r.body) : reason{};
  out.detail = bounded(std::to_string(r.status) + (why.text.empty() ? "" : " " + why.text), detail_max);
  if (r.status >= 200 && r.status < 300) out.st = st::sent;
  else if (dead(p, r.status, why)) out.st = st::dead_target;
  else if (r.status == 429 || r.status >= 500) out.st = st::retry;
  else if (p == provider::apns && r.status == 403 && why.code == "ExpiredProviderToken") out.st = st::retry;
  else if (p == provider::fcm && r.status == 401) out.st = st::retry;
  else out.st = st::rejected;
  if (out.st == st::retry && r.retry_after) out.retry_after = parse_retry_after(*r.retry_after, now_s);
  return out;
}

}  // namespace confab::push
