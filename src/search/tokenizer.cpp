#include "search/tokenizer.hpp"

#include "core/utf8.hpp"

#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>

#include <memory>

namespace confab::search {
namespace {

error icu_failed(const char* what, UErrorCode st) {
  return make_error(errc::internal, std::string("ICU ") + what + " failed: " + u_errorName(st));
}

struct normalizers {
  const icu::Normalizer2* nfkc_cf = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfc = nullptr;
};

result<normalizers> get_normalizers() {
  UErrorCode st = U_ZERO_ERROR;
  normalizers n;
  n.nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(st);
  n.nfd = icu::Normalizer2::getNFDInstance(st);
  n.nfc = icu::Normalizer2::getNFCInstance(st);
  if (U_FAILURE(st)) return icu_failed("normalizer", st);
  return n;
}

// Scripts whose combining marks are accents that people leave out when they type a query.
bool strips_marks(UScriptCode s) {
  return s == USCRIPT_LATIN || s == USCRIPT_GREEK || s == USCRIPT_CYRILLIC || s == USCRIPT_ARABIC || s == USCRIPT_HEBREW;
}

result<icu::UnicodeString> fold(const icu::UnicodeString& in) {
  static const result<normalizers> norms = get_normalizers();  // ICU's instances live as long as the process
  const auto& n = norms;
  if (!n) return n.error();
  UErrorCode st = U_ZERO_ERROR;
  const icu::UnicodeString folded = n->nfkc_cf->normalize(in, st);
  const icu::UnicodeString d = n->nfd->normalize(folded, st);
  if (U_FAILURE(st)) return icu_failed("normalisation", st);
  icu::UnicodeString kept;
  UScriptCode base = USCRIPT_COMMON;
  for (int32_t i = 0; i < d.length();) {
    const UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0xFE0E || c == 0xFE0F) continue;  // variation selectors
    if (u_charType(c) == U_NON_SPACING_MARK) {
      if (strips_marks(base)) continue;
    } else {
      UErrorCode sc = U_ZERO_ERROR;
      base = uscript_getScript(c, &sc);
    }
    kept.append(c);
  }
  icu::UnicodeString out = n->nfc->normalize(kept, st);
  if (U_FAILURE(st)) return icu_failed("normalisation", st);
  return out;
}

std::string utf8_cut(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  if (out.size() > max_term_bytes) {
    std::size_t n = max_term_bytes;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;  // a character's start
    out.resize(n);
  }
  return out;
}

// Scripts indexed by characters and overlapping pairs of them rather than by words: CJK, and the
// scripts written without spaces whose words ICU finds by dictionary (Thai, Lao, Khmer, Myanmar),
// because ICU cuts the same word differently depending on its neighbours (a word typed alone
// would not match the word inside a sentence).
bool is_cjk(UChar32 c) {
  if (c == 0x30FC || c == 0xFF70 || c == 0x3005) return true;  // prolonged sound marks, iteration mark
  UErrorCode st = U_ZERO_ERROR;
  const UScriptCode s = uscript_getScript(c, &st);
  return s == USCRIPT_HAN || s == USCRIPT_HIRAGANA || s == USCRIPT_KATAKANA || s == USCRIPT_HANGUL ||
         s == USCRIPT_THAI || s == USCRIPT_LAO || s == USCRIPT_KHMER || s == USCRIPT_MYANMAR;
}

// A code point that belongs to the character before it (voicing marks, half-width ones).
bool joins_previous(UChar32 c) {
  const auto t = u_charType(c);
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || c == 0xFF9E || c == 0xFF9F;
}

// The word break iterator of this thread (loading ICU's rules and dictionaries once).
result<icu::BreakIterator*> word_breaks() {
  thread_local std::unique_ptr<icu::BreakIterator> it;
  if (!it) {
    UErrorCode st = U_ZERO_ERROR;
    it.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), st));
    if (U_FAILURE(st) || !it) {
      it.reset();
      return icu_failed("word break iterator", st);
    }
  }
  return it.get();
}

class cutter {
 public:
  cutter(const icu::UnicodeString& u, std::vector<std::uint32_t> bytes) : u_(u), bytes_(std::move(bytes)) {}

  // One segment of ICU's word breaks, [b, e) in UTF-16 units.
  result<nothing> segment(int32_t b, int32_t e, int32_t status) {
    if (status < UBRK_WORD_NONE_LIMIT) {  // spaces, punctuation, symbols: only emoji are terms
      // (flags are pairs of regional indicators, which are not pictographic)
      const UChar32 c = u_.char32At(b);
      if (u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC) || u_hasBinaryProperty(c, UCHAR_REGIONAL_INDICATOR)) return word(b, e);
      return nothing{};
    }
    // Split the word into runs of CJK and other characters.
    int32_t run = b;
    bool cjk = is_cjk(u_.char32At(b));
    for (int32_t i = b; i < e;) {
      const UChar32 c = u_.char32At(i);
      const bool now = joins_previous(c) ? cjk : is_cjk(c);
      if (now != cjk) {
        CONFAB_TRY_RESULT(r, cjk ? cjk_run(run, i) : word(run, i));
        run = i;
        cjk = now;
      }
      i += U16_LENGTH(c);
    }
    return cjk ? cjk_run(run, e) : word(run, e);
  }

  result<std::vector<token>> finish() {
    CONFAB_TRY_RESULT(f, flush_cjk());
    return std::move(out_);
  }

 private:
  result<nothing> word(int32_t b, int32_t e) {
    CONFAB_TRY_RESULT(f, flush_cjk());
    CONFAB_TRY_RESULT(t, fold(icu::UnicodeString(u_, b, e - b)));
    if (t->isEmpty()) return nothing{};
    add(utf8_cut(*t), b, e, false);
    ++pos_;
    return nothing{};
  }

  // CJK characters accumulate while they are contiguous, across ICU's word boundaries.
  result<nothing> cjk_run(int32_t b, int32_t e) {
    if (!chars_.empty() && chars_.back().second != b) {
      CONFAB_TRY_RESULT(f, flush_cjk());
    }
    for (int32_t i = b; i < e;) {
      int32_t j = i + U16_LENGTH(u_.char32At(i));
      while (j < e && joins_previous(u_.char32At(j))) j += U16_LENGTH(u_.char32At(j));
      chars_.emplace_back(i, j);
      i = j;
    }
    return nothing{};
  }

  // Every character of the pending run, each with the bigram it starts colocated.
  result<nothing> flush_cjk() {
    std::vector<std::string> folded;
    for (auto [b, e] : chars_) {
      CONFAB_TRY_RESULT(t, fold(icu::UnicodeString(u_, b, e - b)));
      folded.push_back(utf8_cut(*t));
    }
    for (std::size_t i = 0; i < chars_.size(); ++i) {
      if (folded[i].empty()) continue;
      add(folded[i], chars_[i].first, chars_[i].second, false);
      if (i + 1 < chars_.size() && !folded[i + 1].empty())
        add(folded[i] + folded[i + 1], chars_[i].first, chars_[i + 1].second, true);
      ++pos_;
    }
    chars_.clear();
    return nothing{};
  }

  void add(std::string term, int32_t b, int32_t e, bool colocated) {
    if (out_.size() >= max_tokens) return;
    out_.push_back({std::move(term), bytes_[static_cast<std::size_t>(b)], bytes_[static_cast<std::size_t>(e)], pos_, colocated});
  }

  const icu::UnicodeString& u_;
  std::vector<std::uint32_t> bytes_;                // UTF-16 index -> byte offset
  std::vector<std::pair<int32_t, int32_t>> chars_;  // the pending CJK run
  std::vector<token> out_;
  std::uint32_t pos_ = 0;
};

// For each UTF-16 index of the converted text, the byte offset of its code point in text.
std::vector<std::uint32_t> byte_offsets(std::string_view text) {
  std::vector<std::uint32_t> at;
  at.reserve(text.size() + 1);
  for (std::size_t b = 0; b < text.size();) {
    const auto lead = static_cast<unsigned char>(text[b]);
    const std::size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    at.push_back(static_cast<std::uint32_t>(b));
    if (len == 4) at.push_back(static_cast<std::uint32_t>(b));  // the trailing surrogate
    b += len;
  }
  at.push_back(static_cast<std::uint32_t>(text.size()));
  return at;
}

}  // namespace

result<std::vector<token>> tokenize(std::string_view text) {
  if (!valid_utf8(text)) return make_error(errc::invalid_field, "text is not valid UTF-8");
  if (text.size() > 0xFFFFFFF) return make_error(errc::invalid_field, "text is too long to index");
  const auto u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  CONFAB_TRY_RESULT(it, word_breaks());
  (*it)->setText(u);
  cutter cut(u, byte_offsets(text));
  int32_t b = (*it)->first();
  for (int32_t e = (*it)->next(); e != icu::BreakIterator::DONE; b = e, e = (*it)->next()) {
    CONFAB_TRY_RESULT(s, cut.segment(b, e, (*it)->getRuleStatus()));
  }
  return cut.finish();
}

result<std::string> normalize_word(std::string_view word) {
  if (!valid_utf8(word)) return make_error(errc::invalid_field, "text is not valid UTF-8");
  const auto u = icu::UnicodeString::fromUTF8(icu::StringPiece(word.data(), static_cast<int32_t>(word.size())));
  CONFAB_TRY_RESULT(t, fold(u));
  return utf8_cut(*t);
}

}  // namespace confab::search
