// Typed requests: an operation's fields are a struct described with Boost.Describe, and decode<T>
// reads a JSON object into it, field by field, from the members' types. Pure, no I/O.
//
// A member's type says how it is read and what is allowed, so no operation checks its own fields:
//   std::int64_t / std::string / bool         required (missing_field if absent or null)
//   std::optional<X>                           optional (absent or null -> nullopt)
//   bytes<Min, Max>                           a string of Min..Max bytes (UTF-8 after unescaping)
//   int_range<Min, Max>                       an integer in Min..Max
//   id_list<MaxItems>                         an array of at most MaxItems integers
// Strings never contain NUL (PostgreSQL cannot store it). Errors: missing_field / invalid_field,
// naming the field, as in docs/protocol.md. Unknown fields are ignored (forward compatibility).
#pragma once

#include "core/error.hpp"
#include "protocol/codec.hpp"

#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/json/object.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace confab::protocol {

template <std::size_t Min, std::size_t Max>
struct bytes {
  std::string value;
};

template <std::int64_t Min, std::int64_t Max>
struct int_range {
  std::int64_t value = Min;
};

template <std::size_t MaxItems>
struct id_list {
  std::vector<std::int64_t> value;
};

// A request with no fields.
struct no_fields {};
BOOST_DESCRIBE_STRUCT(no_fields, (), ())

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

result<bool> read_bool(const boost::json::object& o, std::string_view key);

// Reads one present, non-null field into out.
inline result<nothing> read(const boost::json::object& o, std::string_view key, std::int64_t& out) {
  auto v = get_int(o, key);
  if (!v) return v.error();
  out = *v;
  return nothing{};
}
inline result<nothing> read(const boost::json::object& o, std::string_view key, std::string& out) {
  auto v = get_string(o, key);
  if (!v) return v.error();
  out = std::move(*v);
  return nothing{};
}
inline result<nothing> read(const boost::json::object& o, std::string_view key, bool& out) {
  auto v = read_bool(o, key);
  if (!v) return v.error();
  out = *v;
  return nothing{};
}
error out_of_range(std::string_view key, std::string_view what);
// A nested object that the operation checks itself (push_register's target): invalid_field unless
// the field is a JSON object.
result<nothing> read(const boost::json::object& o, std::string_view key, boost::json::object& out);

template <std::size_t Min, std::size_t Max>
result<nothing> read(const boost::json::object& o, std::string_view key, bytes<Min, Max>& out) {
  auto v = get_string(o, key);
  if (!v) return v.error();
  if (v->size() < Min || v->size() > Max)
    return out_of_range(key, std::to_string(Min) + " to " + std::to_string(Max) + " bytes");
  out.value = std::move(*v);
  return nothing{};
}
template <std::int64_t Min, std::int64_t Max>
result<nothing> read(const boost::json::object& o, std::string_view key, int_range<Min, Max>& out) {
  auto v = get_int(o, key);
  if (!v) return v.error();
  if (*v < Min || *v > Max) return out_of_range(key, std::to_string(Min) + " to " + std::to_string(Max));
  out.value = *v;
  return nothing{};
}
template <std::size_t MaxItems>
result<nothing> read(const boost::json::object& o, std::string_view key, id_list<MaxItems>& out) {
  auto v = get_int_array(o, key, MaxItems);
  if (!v) return v.error();
  out.value = std::move(*v);
  return nothing{};
}

inline bool absent(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return !v || v->is_null();
}

template <class F>
result<nothing> read_member(const boost::json::object& o, std::string_view key, F& out) {
  if constexpr (is_optional<F>::value) {
    if (absent(o, key)) {
      out.reset();
      return nothing{};
    }
    typename F::value_type v{};
    auto r = read(o, key, v);
    if (r) out = std::move(v);
    return r;
  } else {
    if (absent(o, key)) return make_error(errc::missing_field, "missing field: " + std::string(key));
    return read(o, key, out);
  }
}

}  // namespace detail

// Reads every described member of T from o, in declaration order; the first bad field's error.
template <class T>
result<T> decode(const boost::json::object& o) {
  T out{};
  std::optional<error> failed;
  boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto m) {
    if (failed) return;
    auto r = detail::read_member(o, m.name, out.*m.pointer);
    if (!r) failed = r.error();
  });
  if (failed) return *failed;
  return out;
}

}  // namespace confab::protocol
