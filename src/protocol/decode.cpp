#include "protocol/decode.hpp"

namespace confab::protocol::detail {

result<bool> read_bool(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_bool()) return make_error(errc::invalid_field, "field " + std::string(key) + " must be a boolean");
  return v->get_bool();
}

error out_of_range(std::string_view key, std::string_view what) {
  return make_error(errc::invalid_field, "field " + std::string(key) + " must be " + std::string(what));
}

result<nothing> read(const boost::json::object& o, std::string_view key, boost::json::object& out) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_object()) return make_error(errc::invalid_field, "field " + std::string(key) + " must be an object");
  out = v->as_object();
  return nothing{};
}

}  // namespace confab::protocol::detail
