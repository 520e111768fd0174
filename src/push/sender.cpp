#include "push/sender.hpp"

#include "push/ece.hpp"
#include "push/vapid.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <span>
#include <utility>

namespace confab::push {

namespace {

using done_fn = std::function<void(send_outcome)>;

send_outcome rejected(std::string why) {
  return {send_outcome::status::rejected, 0, std::nullopt, std::string(std::string_view(why).substr(0, detail_max))};
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// An OAuth token endpoint's failure: the send can succeed later only if the endpoint was
// unavailable; a refused assertion (RFC 6749 section 5.2, 400/401) is a configuration problem.
send_outcome token_failure(const http_response& r, std::int64_t now_s) {
  send_outcome out = map_response(provider::webpush, r, now_s);  // no provider-specific rule applies
  if (out.st != send_outcome::status::retry) out.st = send_outcome::status::rejected;
  out.detail = std::string(std::string_view("fcm token: " + out.detail).substr(0, detail_max));
  return out;
}

}  // namespace

sender::sender(sender_config cfg, const clock& clk) : cfg_(std::move(cfg)), clock_(clk), http_(cfg_.http) {
  // The assertion's audience must be the URL it is posted to (RFC 7523 section 3).
  if (cfg_.fcm && !cfg_.fcm_token_url.empty()) cfg_.fcm->token_uri = cfg_.fcm_token_url;
  if (cfg_.apns) apns_tokens_ = std::make_unique<apns_token_cache>(std::move(cfg_.apns->key), cfg_.apns->key_id, cfg_.apns->team_id, clock_);
}

sender::~sender() { http_.stop(); }

void sender::send(const push_target& to, const notification& n, std::string idempotency_key, done_fn done) {
  if (const auto* w = std::get_if<webpush_target>(&to)) send_webpush(*w, n, std::move(done));
  else if (const auto* f = std::get_if<fcm_target>(&to)) send_fcm(*f, n, std::move(done));
  else send_apns(std::get<apns_target>(to), n, std::move(idempotency_key), std::move(done));
}

void sender::send_webpush(const webpush_target& t, const notification& n, done_fn done) {
  if (!cfg_.vapid) return done(rejected("webpush: no VAPID key configured"));
  auto origin = check_endpoint(t.endpoint, cfg_.endpoints);
  if (!origin) return done(rejected("webpush endpoint: " + origin.error().message));
  auto payload = webpush_payload(n);
  if (!payload) return done(rejected("webpush payload: " + payload.error().message));
  auto body = encrypt_aes128gcm(t, as_bytes(*payload));
  if (!body) return done(rejected("webpush encryption: " + body.error().message));
  auto auth = vapid_authorization(*cfg_.vapid, vapid_claims{*origin, cfg_.vapid_subject, now_s()});
  if (!auth) return done(rejected("vapid: " + auth.error().message));
  http_request req;
  req.url = t.endpoint;
  req.headers = webpush_headers(n);
  req.headers.emplace_back("Authorization", std::move(*auth));
  req.body.assign(body->begin(), body->end());
  http_.submit(std::move(req), [this, done = std::move(done)](http_response r) {
    done(map_response(provider::webpush, r, now_s()));
  });
}

void sender::send_fcm(const fcm_target& t, const notification& n, done_fn done) {
  if (!cfg_.fcm) return done(rejected("fcm: no service account configured"));
  auto body = fcm_message(t, n);
  if (!body) return done(rejected("fcm message: " + body.error().message));
  with_fcm_token([this, body = std::move(*body), done = std::move(done)](std::optional<std::string> token,
                                                                        send_outcome failure) mutable {
    if (!token) return done(std::move(failure));
    http_request req;
    req.url = cfg_.fcm_base_url + fcm_send_path(*cfg_.fcm);
    req.headers = {{"Authorization", "Bearer " + *token}, {"Content-Type", "application/json"}};
    req.body = std::move(body);
    http_.submit(std::move(req), [this, token = *token, done = std::move(done)](http_response r) {
      send_outcome out = map_response(provider::fcm, r, now_s());
      if (r.status == 401) drop_fcm_token(token);
      done(std::move(out));
    });
  });
}

void sender::with_fcm_token(token_waiter w) {
  std::optional<std::string> ready;
  bool fetch = false;
  {
    lock_guard lk(fcm_mu_);
    if (!fcm_token_.empty() && clock_.steady() < fcm_token_until_) {
      ready = fcm_token_;
    } else {
      fcm_waiters_.push_back(std::move(w));
      fetch = !fcm_fetching_;
      fcm_fetching_ = true;
      if (fetch) ++fcm_token_requests_;
    }
  }
  if (ready) return w(std::move(ready), {});
  if (!fetch) return;
  auto assertion = fcm_assertion(*cfg_.fcm, now_s());
  if (!assertion) {
    http_response fake;
    fake.status = 400;
    fake.body = "assertion: " + assertion.error().message;
    return on_fcm_token(fake);
  }
  http_request req;
  req.url = cfg_.fcm->token_uri;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = fcm_token_request_body(*assertion);
  http_.submit(std::move(req), [this](http_response r) { on_fcm_token(r); });
}

void sender::on_fcm_token(const http_response& r) {
  std::optional<std::string> token;
  std::int64_t expires_in = 0;
  if (r.status == 200) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r.body, ec);
    const auto* o = !ec ? v.if_object() : nullptr;
    const auto* t = o ? o->if_contains("access_token") : nullptr;
    const auto* e = o ? o->if_contains("expires_in") : nullptr;
    if (t && t->is_string() && !t->as_string().empty() && e && e->is_int64() && e->as_int64() > 0) {
      token = std::string(t->as_string());
      expires_in = e->as_int64();
    }
  }
  send_outcome failure;
  if (!token) {
    failure = r.status == 200 ? rejected("fcm token: no access_token/expires_in in the answer") : token_failure(r, now_s());
  }
  std::vector<token_waiter> waiters;
  {
    lock_guard lk(fcm_mu_);
    if (token) {
      const std::chrono::seconds life(expires_in);
      fcm_token_ = *token;
      fcm_token_until_ = clock_.steady() + (life > 2 * fcm_token_margin ? life - fcm_token_margin : life / 2);
    }
    fcm_fetching_ = false;
    waiters.swap(fcm_waiters_);
  }
  for (auto& w : waiters) w(token, failure);
}

void sender::drop_fcm_token(const std::string& token) {
  lock_guard lk(fcm_mu_);
  if (fcm_token_ == token) fcm_token_.clear();
}

std::uint64_t sender::fcm_token_requests() const {
  lock_guard lk(fcm_mu_);
  return fcm_token_requests_;
}

void sender::send_apns(const apns_target& t, const notification& n, std::string id, done_fn done) {
  if (!apns_tokens_) return done(rejected("apns: no key configured"));
  auto token = apns_tokens_->token();
  if (!token) return done(rejected("apns token: " + token.error().message));
  auto built = apns_build(t, n, *token, now_s());
  if (!built) return done(rejected("apns request: " + built.error().message));
  const std::string base = !cfg_.apns->base_url.empty() ? cfg_.apns->base_url : "https://" + std::string(apns_host(t.environment));
  http_request req;
  req.url = base + built->path;
  req.headers = std::move(built->headers);
  if (!id.empty()) req.headers.emplace_back("apns-id", std::move(id));
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(built->body);
  req.multiplex = true;  // APNs takes HTTP/2 only
  http_.submit(std::move(req), [this, done = std::move(done)](http_response r) {
    send_outcome out = map_response(provider::apns, r, now_s());
    if (r.status == 403 && out.st == send_outcome::status::retry) apns_tokens_->expired();
    done(std::move(out));
  });
}

}  // namespace confab::push
