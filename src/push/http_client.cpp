#include "push/http_client.hpp"

#include "push/address.hpp"

#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string_view>
#include <utility>

namespace confab::push {

struct http_client::transfer {
  http_request req;
  callback done;
  http_response resp;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::size_t max_body = 0;
  bool allow_non_public = false;
  std::string refused_address;  // set when the address filter refused a connection
  char errbuf[CURL_ERROR_SIZE]{};

  ~transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
  void complete() {
    auto cb = std::move(done);
    done = nullptr;
    if (cb) cb(std::move(resp));
  }
  void fail(std::string why) {
    resp.status = 0;
    resp.error = std::move(why);
    complete();
  }
};

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size() + 1 || line[name.size()] != ':') return false;
  return std::equal(name.begin(), name.end(), line.begin(),
                    [](char lower, char c) { return lower == std::tolower(static_cast<unsigned char>(c)); });
}

std::string header_value(std::string_view line, std::size_t name_len) {
  line.remove_prefix(name_len + 1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  return std::string(line);
}

size_t on_header(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<http_client::transfer*>(p);
  const std::string_view line(data, size * n);
  // A new status line (after a 1xx answer) starts a new set of headers.
  if (line.starts_with("HTTP/")) {
    t->resp.retry_after.reset();
    t->resp.apns_id.reset();
  } else if (iequals_prefix(line, "retry-after")) {
    t->resp.retry_after = header_value(line, 11);
  } else if (iequals_prefix(line, "apns-id")) {
    t->resp.apns_id = header_value(line, 7);
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<http_client::transfer*>(p);
  const std::size_t len = size * n;
  const std::size_t room = t->max_body - std::min(t->max_body, t->resp.body.size());
  t->resp.body.append(data, std::min(room, len));
  if (len > room) t->resp.truncated = true;
  return len;  // keep reading (and discarding) so the connection stays reusable
}

std::string address_text(const curl_sockaddr* a) {
  char buf[INET6_ADDRSTRLEN]{};
  if (a->family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a->addr);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  } else if (a->family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a->addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// The second layer of the endpoint check (docs/push.md): the addresses a name resolved to.
curl_socket_t on_open_socket(void* p, curlsocktype, curl_sockaddr* a) {
  auto* t = static_cast<http_client::transfer*>(p);
  if (!t->allow_non_public) {
    const std::string text = address_text(a);
    const address_class c = text.empty() ? address_class::invalid : classify_host(text);
    if (c != address_class::public_net) {
      t->refused_address = text.empty() ? "an unknown address family" : text + " (" + std::string(to_string(c)) + ")";
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);  // not inherited by children
}

void configure(http_client::transfer& t, const http_client_options& o) {
  CURL* e = t.easy;
  const char* protocols = o.allow_http ? "http,https" : "https";
  curl_easy_setopt(e, CURLOPT_URL, t.req.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (t.req.multiplex) {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // wait for a connection that can multiplex
  } else {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  }
  if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t.req.timeout.value_or(o.timeout).count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_USERAGENT, "confab-push");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
  if (t.req.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.req.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.req.body.size()));
    if (t.req.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t.req.method.c_str());
  }
  for (const auto& [name, value] : t.req.headers) {
    const std::string line = name + ": " + value;
    t.headers = curl_slist_append(t.headers, line.c_str());
  }
  t.headers = curl_slist_append(t.headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
}

}  // namespace

http_client::http_client(http_client_options o) : opts_(std::move(o)) {
  global_init();
  CURLM* m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, opts_.max_idle_connections);
  multi_ = m;
  thread_ = std::thread([this] { run(); });
}

http_client::~http_client() {
  stop();
  for (void* e : idle_easy_) curl_easy_cleanup(static_cast<CURL*>(e));
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void http_client::submit(http_request req, callback done) {
  auto t = std::make_unique<transfer>();
  t->req = std::move(req);
  t->done = std::move(done);
  t->max_body = opts_.max_body;
  t->allow_non_public = opts_.allow_non_public;
  {
    lock_guard lk(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(t));
      curl_multi_wakeup(static_cast<CURLM*>(multi_));
      return;
    }
  }
  t->fail("http client stopped");
}

void http_client::stop() {
  {
    lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
}

bool http_client::start_queued() {
  std::deque<std::unique_ptr<transfer>> q;
  {
    lock_guard lk(mu_);
    if (stopping_) return false;
    q.swap(queue_);
  }
  for (auto& t : q) {
    if (idle_easy_.empty()) {
      t->easy = curl_easy_init();
    } else {
      t->easy = static_cast<CURL*>(idle_easy_.back());
      idle_easy_.pop_back();
      curl_easy_reset(t->easy);
    }
    if (!t->easy) {
      t->fail("curl_easy_init failed");
      continue;
    }
    configure(*t, opts_);
    if (curl_multi_add_handle(static_cast<CURLM*>(multi_), t->easy) != CURLM_OK) {
      t->fail("curl_multi_add_handle failed");
      continue;
    }
    active_.push_back(std::move(t));
  }
  return true;
}

void http_client::finish_done() {
  auto* m = static_cast<CURLM*>(multi_);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = std::find_if(active_.begin(), active_.end(), [&](const auto& t) { return t->easy == msg->easy_handle; });
    if (it == active_.end()) continue;
    std::unique_ptr<transfer> t = std::move(*it);
    active_.erase(it);
    const CURLcode rc = msg->data.result;  // msg is invalid once the handle is removed
    curl_multi_remove_handle(m, t->easy);
    long code = 0, version = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
    // Kept for the next request (reset then); its options point into t until that reset.
    if (std::cmp_less(idle_easy_.size(), opts_.max_idle_connections)) idle_easy_.push_back(std::exchange(t->easy, nullptr));
    if (rc != CURLE_OK) {
      std::string why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
      if (!t->refused_address.empty()) why = "address not allowed: " + t->refused_address + "; " + why;
      t->fail(std::move(why));
      continue;
    }
    t->resp.status = static_cast<int>(code);
    t->resp.http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : version == CURL_HTTP_VERSION_3 ? 3 : 1;
    t->complete();
  }
}

void http_client::fail_all(std::string_view why) {
  auto* m = static_cast<CURLM*>(multi_);
  for (auto& t : active_) {
    curl_multi_remove_handle(m, t->easy);
    t->fail(std::string(why));
  }
  active_.clear();
  std::deque<std::unique_ptr<transfer>> q;
  {
    lock_guard lk(mu_);
    q.swap(queue_);
  }
  for (auto& t : q) t->fail(std::string(why));
}

void http_client::run() {
  auto* m = static_cast<CURLM*>(multi_);
  while (start_queued()) {
    int running = 0;
    curl_multi_perform(m, &running);
    finish_done();
    curl_multi_poll(m, nullptr, 0, 1000, nullptr);
  }
  fail_all("http client stopped");
}

}  // namespace confab::push
