#include "search/query.hpp"

#include "core/utf8.hpp"
#include "search/tokenizer.hpp"

#include <chrono>
#include <charconv>

namespace confab::search {
namespace {

error bad(std::string what, std::size_t at) {
  return make_error(errc::invalid_field, "query: " + what + " at character " + std::to_string(at + 1));
}

bool space_at(std::string_view s, std::size_t i, std::size_t* len) {
  const char c = s[i];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return *len = 1, true;
  if (s.substr(i, 3) == "\xE3\x80\x80") return *len = 3, true;  // U+3000 IDEOGRAPHIC SPACE
  return false;
}

// The character (1-based, counting code points) of byte offset b, for error messages.
std::size_t char_index(std::string_view s, std::size_t b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < b && i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  return n;
}

bool username_ok(std::string_view u) {
  if (u.empty() || u.size() > 32) return false;
  for (unsigned char c : u)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

// UTC midnight of YYYY-MM-DD, or nothing for a malformed or impossible date.
std::optional<std::int64_t> day_ms(std::string_view v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](std::string_view f, auto& out) {
    auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
    return ec == std::errc{} && p == f.data() + f.size();
  };
  if (!num(v.substr(0, 4), y) || !num(v.substr(5, 2), m) || !num(v.substr(8, 2), d)) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok() || y < 1970) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::sys_days{ymd}.time_since_epoch()).count();
}

constexpr std::int64_t day = 86'400'000;

class parser {
 public:
  explicit parser(std::string_view s) : s_(s) {}

  result<query> run() {
    for (;;) {
      skip_spaces();
      if (i_ >= s_.size()) break;
      if (++items_ > max_items) return bad("more than " + std::to_string(max_items) + " items", at(i_));
      CONFAB_TRY_RESULT(r, item());
    }
    if (q_.include.empty() && !filtered_) {
      if (!q_.exclude.empty()) return make_error(errc::invalid_field, "query: only exclusions; add a word or a filter to search for");
      return make_error(errc::invalid_field, "query: nothing to search for");
    }
    if (q_.since_ms && q_.until_ms && *q_.since_ms >= *q_.until_ms)
      return make_error(errc::invalid_field, "query: the date filters leave no day");
    return std::move(q_);
  }

 private:
  std::size_t at(std::size_t b) const { return char_index(s_, b); }

  void skip_spaces() {
    std::size_t len = 0;
    while (i_ < s_.size() && space_at(s_, i_, &len)) i_ += len;
  }

  // A quoted text starting at i_ (on the quote): its content; i_ moves past the closing quote.
  result<std::string_view> quoted() {
    const std::size_t open = i_;
    const auto close = s_.find('"', open + 1);
    if (close == std::string_view::npos) return bad("a quote that is not closed", at(open));
    i_ = close + 1;
    return s_.substr(open + 1, close - open - 1);
  }

  // A bare word starting at i_: up to the next space; a quote inside it is an error.
  result<std::string_view> bare() {
    const std::size_t b = i_;
    std::size_t len = 0;
    while (i_ < s_.size() && !space_at(s_, i_, &len)) {
      if (s_[i_] == '"') return bad("a quote inside a word (put it at the start of a phrase)", at(i_));
      ++i_;
    }
    return s_.substr(b, i_ - b);
  }

  result<nothing> item() {
    const std::size_t start = i_;
    const bool exclude = s_[i_] == '-';
    if (exclude) ++i_;
    if (i_ >= s_.size()) return bad("a '-' without a word after it", at(start));
    if (s_[i_] == '"') {
      CONFAB_TRY_RESULT(text, quoted());
      return add(*text, false, exclude, start);
    }
    if (s_.substr(i_, 4) == "in:\"") {  // in:"a title with spaces"
      if (exclude) return bad("a filter cannot be excluded", at(start));
      i_ += 3;
      return filter("in", {}, start);
    }
    CONFAB_TRY_RESULT(w, bare());
    std::string_view word = *w;
    if (word.empty()) return bad("a '-' without a word after it", at(start));
    if (auto colon = word.find(':'); colon != std::string_view::npos && colon > 0 && is_filter_name(word.substr(0, colon))) {
      if (exclude) return bad("a filter cannot be excluded", at(start));
      return filter(word.substr(0, colon), word.substr(colon + 1), start);
    }
    bool prefix = false;
    if (word.back() == '*') {
      word.remove_suffix(1);
      prefix = true;
      if (word.empty() || word.back() == '*') return bad("'*' must follow the start of a word", at(start));
    }
    return add(word, prefix, exclude, start);
  }

  static bool is_filter_name(std::string_view n) {
    for (char c : n)
      if (c < 'a' || c > 'z') return false;
    return true;
  }

  result<nothing> add(std::string_view text, bool prefix, bool exclude, std::size_t start) {
    auto p = query_phrase(text, prefix);
    if (!p) return bad(p.error().message, at(start));
    if (p->terms.empty()) {
      if (prefix) return bad("a prefix with no letters or digits", at(start));
      return nothing{};  // only punctuation: nothing to match
    }
    (exclude ? q_.exclude : q_.include).push_back(std::move(*p));
    return nothing{};
  }

  result<nothing> filter(std::string_view name, std::string_view value, std::size_t start) {
    filtered_ = true;
    const std::size_t v = start + name.size() + 1;  // where the value starts
    if (name == "in" && value.empty() && i_ < s_.size() && s_[i_] == '"') {  // in:"a title"
      CONFAB_TRY_RESULT(t, quoted());
      value = *t;
      if (value.empty()) return bad("an empty conversation name", at(v));
    }
    if (value.empty()) return bad("filter \"" + std::string(name) + ":\" has no value", at(v));
    if (name == "from") {
      if (value.front() == '@') value.remove_prefix(1);
      if (!username_ok(value)) return bad("from: needs a username", at(v));
      q_.from_users.emplace_back(value);
    } else if (name == "in") {
      if (value.front() == '#') value.remove_prefix(1);
      if (value.empty() || value.size() > 200 || !valid_utf8(value)) return bad("in: needs a conversation name", at(v));
      q_.in_conversations.emplace_back(value);
    } else if (name == "before" || name == "after" || name == "on") {
      auto d = day_ms(value);
      if (!d) return bad("\"" + std::string(value) + "\" is not a date (YYYY-MM-DD)", at(v));
      if (name != "before") narrow_since(name == "after" ? *d + day : *d);
      if (name != "after") narrow_until(name == "before" ? *d : *d + day);
    } else if (name == "has") {
      if (value == "link") q_.has_link = true;
      else if (value == "mention") q_.has_mention = true;
      else if (value == "file" || value == "image") return bad("has:" + std::string(value) + " is not available (no attachments yet)", at(v));
      else return bad("has: is link or mention", at(v));
    } else if (name == "mentions") {
      if (value != "me") return bad("mentions: is me", at(v));
      q_.mentions_me = true;
    } else if (name == "is") {
      if (value == "thread") q_.is_thread = true;
      else if (value == "pinned") q_.is_pinned = true;
      else return bad("is: is thread or pinned", at(v));
    } else {
      return bad("unknown filter \"" + std::string(name) + ":\"", at(start));
    }
    return nothing{};
  }

  void narrow_since(std::int64_t ms) { q_.since_ms = q_.since_ms ? std::max(*q_.since_ms, ms) : ms; }
  void narrow_until(std::int64_t ms) { q_.until_ms = q_.until_ms ? std::min(*q_.until_ms, ms) : ms; }

  std::string_view s_;
  std::size_t i_ = 0;
  std::size_t items_ = 0;
  bool filtered_ = false;
  query q_;
};

}  // namespace

result<phrase> query_phrase(std::string_view text, bool prefix) {
  CONFAB_TRY_RESULT(toks, tokenize(text));
  phrase p;
  p.prefix = prefix;
  const auto& t = *toks;
  // One term per position (the bigram where the position has one), so that a phrase's terms are
  // at consecutive positions in the index too.
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].colocated) continue;
    const bool has_bigram = i + 1 < t.size() && t[i + 1].colocated;
    p.terms.push_back(has_bigram ? t[i + 1].term : t[i].term);
  }
  if (p.terms.size() > max_items) return make_error(errc::invalid_field, "more than " + std::to_string(max_items) + " terms in a phrase");
  return p;
}

result<query> parse_query(std::string_view text) {
  if (text.size() > max_query_bytes)
    return make_error(errc::invalid_field, "query: longer than " + std::to_string(max_query_bytes) + " bytes");
  if (!valid_utf8(text)) return make_error(errc::invalid_field, "query: not valid UTF-8");
  return parser(text).run();
}

}  // namespace confab::search
