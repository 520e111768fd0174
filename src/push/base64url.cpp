#include "push/base64url.hpp"

#include <sodium.h>

namespace confab::push {

std::string base64url_encode(std::span<const std::uint8_t> data) {
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
  out.resize(out.size() - 1);  // the NUL
  return out;
}

std::string base64url_encode(std::string_view data) {
  return base64url_encode(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

namespace {
bool b64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
}  // namespace

std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text) {
  for (int i = 0; i < 2 && !text.empty() && text.back() == '='; ++i) text.remove_suffix(1);
  // libsodium 1.0.18 decodes bytes >= 0x80 as if they were base64 characters (found by push_fuzz):
  // the alphabet is checked here first.
  for (char c : text)
    if (!b64url_char(c)) return std::nullopt;
  std::vector<std::uint8_t> out(text.size() * 3 / 4 + 1);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(len);
  return out;
}

}  // namespace confab::push
