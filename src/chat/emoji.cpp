#include "chat/emoji.hpp"

#include "core/utf8.hpp"

#include <unicode/brkiter.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <memory>

namespace confab::chat {
namespace {

error not_one_emoji() { return make_error(errc::invalid_field, "field emoji must be exactly one emoji"); }

// The number of extended grapheme clusters in s, counting at most two.
result<int> clusters(const icu::UnicodeString& s) {
  // Creating a break iterator loads ICU's rules; each thread keeps one and re-targets it.
  thread_local std::unique_ptr<icu::BreakIterator> it;
  if (!it) {
    UErrorCode status = U_ZERO_ERROR;
    it.reset(icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !it) {
      it.reset();
      return make_error(errc::internal, std::string("ICU grapheme break iterator unavailable: ") + u_errorName(status));
    }
  }
  it->setText(s);
  int n = 0;
  it->first();
  while (n < 2 && it->next() != icu::BreakIterator::DONE) ++n;
  return n;
}

}  // namespace

result<nothing> check_emoji(std::string_view s) {
  if (s.empty() || s.size() > max_emoji_bytes || !valid_utf8(s)) return not_one_emoji();
  const auto u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size())));
  auto n = clusters(u);
  if (!n) return n.error();
  if (*n != 1) return not_one_emoji();
  if (!u_stringHasBinaryProperty(u.getBuffer(), u.length(), UCHAR_RGI_EMOJI)) return not_one_emoji();
  return nothing{};
}

}  // namespace confab::chat
