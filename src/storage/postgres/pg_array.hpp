// A PostgreSQL array literal, passed as one text parameter and cast in SQL (CAST($1 AS BIGINT[])),
// so that a statement takes a whole batch's values in one round trip.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::storage::postgres {

// A PostgreSQL array literal, built element by element: {1,NULL,"a \"b\""}.
class pg_array {
 public:
  void add(std::int64_t v) { sep() += std::to_string(v); }
  void add(std::optional<std::int64_t> v) { v ? add(*v) : add_null(); }
  void add_null() { sep() += "NULL"; }
  void add_bool(bool v) { sep() += v ? "t" : "f"; }
  void add_text(std::string_view v) {
    auto& s = sep();
    s += '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') s += '\\';
      s += ch;
    }
    s += '"';
  }
  const std::string& str() {
    if (!closed_) {
      s_ += '}';
      closed_ = true;
    }
    return s_;
  }

 private:
  std::string& sep() {
    if (s_.size() > 1) s_ += ',';
    return s_;
  }
  std::string s_ = "{";
  bool closed_ = false;
};

}  // namespace confab::storage::postgres
