// Typed request decoding: each kind of bad field gets its own typed error naming the field.
#include "protocol/decode.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace confab;
using namespace confab::protocol;
namespace json = boost::json;

namespace {

struct sample {
  std::int64_t conv;
  bytes<1, 4> tag;
  std::optional<int_range<1, 100>> limit;
  std::optional<std::string> note;
  std::optional<bool> flag;
  std::optional<id_list<3>> ids;
};
BOOST_DESCRIBE_STRUCT(sample, (), (conv, tag, limit, note, flag, ids))

result<sample> dec(std::string_view text) { return decode<sample>(json::parse(text).as_object()); }

TEST(decode, reads_required_and_optional_fields) {
  auto s = dec(R"({"conv":7,"tag":"ab","limit":5,"note":"x","flag":true,"ids":[1,2],"unknown":{}})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->conv, 7);
  EXPECT_EQ(s->tag.value, "ab");
  EXPECT_EQ(s->limit->value, 5);
  EXPECT_EQ(*s->note, "x");
  EXPECT_TRUE(*s->flag);
  EXPECT_EQ(s->ids->value, (std::vector<std::int64_t>{1, 2}));
  auto t = dec(R"({"conv":1,"tag":"a","limit":null})");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->limit);
  EXPECT_FALSE(t->note);
  EXPECT_FALSE(t->ids);
}

TEST(decode, each_kind_of_bad_field_is_a_typed_error_naming_it) {
  const std::pair<const char*, std::pair<errc, const char*>> cases[] = {
      {R"({"tag":"a"})", {errc::missing_field, "conv"}},
      {R"({"conv":null,"tag":"a"})", {errc::missing_field, "conv"}},
      {R"({"conv":"7","tag":"a"})", {errc::invalid_field, "conv"}},
      {R"({"conv":1.5,"tag":"a"})", {errc::invalid_field, "conv"}},
      {R"({"conv":18446744073709551615,"tag":"a"})", {errc::invalid_field, "conv"}},
      {R"({"conv":1,"tag":""})", {errc::invalid_field, "tag"}},
      {R"({"conv":1,"tag":"abcde"})", {errc::invalid_field, "tag"}},
      {R"({"conv":1,"tag":"a\u0000"})", {errc::invalid_field, "tag"}},
      {R"({"conv":1,"tag":"a","limit":0})", {errc::invalid_field, "limit"}},
      {R"({"conv":1,"tag":"a","limit":101})", {errc::invalid_field, "limit"}},
      {R"({"conv":1,"tag":"a","note":5})", {errc::invalid_field, "note"}},
      {R"({"conv":1,"tag":"a","flag":"yes"})", {errc::invalid_field, "flag"}},
      {R"({"conv":1,"tag":"a","ids":[1,2,3,4]})", {errc::invalid_field, "ids"}},
      {R"({"conv":1,"tag":"a","ids":[1,"2"]})", {errc::invalid_field, "ids"}},
      {R"({"conv":1,"tag":"a","ids":{}})", {errc::invalid_field, "ids"}},
  };
  for (auto& [text, want] : cases) {
    auto r = dec(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, want.first) << text;
    EXPECT_NE(r.error().message.find(want.second), std::string::npos) << text << " -> " << r.error().message;
  }
}

}  // namespace
