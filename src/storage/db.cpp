#include "storage/db.hpp"

#include <charconv>
#include <stdexcept>

namespace confab::storage {

std::int64_t row::i64(std::size_t i) const {
  const auto& c = cells_.at(i);
  if (!c) return 0;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(c->data(), c->data() + c->size(), v);
  if (ec != std::errc{} || p != c->data() + c->size()) throw std::logic_error("storage: non-integer cell: " + *c);
  return v;
}

std::optional<std::int64_t> row::opt_i64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return i64(i);
}

const std::string& row::str(std::size_t i) const {
  static const std::string empty;
  const auto& c = cells_.at(i);
  return c ? *c : empty;
}

}  // namespace confab::storage
