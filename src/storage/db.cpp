#include "storage/db.hpp"

#include <charconv>
#include <stdexcept>

namespace confab::storage {

std::int64_t row::i64(std::size_t i) const {
  const auto& c = cells_.at(i);
  if (auto* v = std::get_if<std::int64_t>(&c)) return *v;
  if (std::holds_alternative<std::monostate>(c)) return 0;
  const auto& s = std::get<std::string>(c);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) throw std::logic_error("storage: non-integer cell: " + s);
  return v;
}

std::optional<std::int64_t> row::opt_i64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return i64(i);
}

const std::string& row::str(std::size_t i) const {
  static const std::string empty;
  const auto& c = cells_.at(i);
  if (auto* s = std::get_if<std::string>(&c)) return *s;
  if (std::holds_alternative<std::monostate>(c)) return empty;
  throw std::logic_error("storage: integer cell " + std::to_string(i) + " read as text");
}

}  // namespace confab::storage
