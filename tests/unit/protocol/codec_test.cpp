#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <limits>

using namespace confab;
using namespace confab::protocol;
namespace json = boost::json;

TEST(codec, parses_a_request_frame) {
  auto r = parse_frame(R"({"op":"send","id":7,"conv":3,"text":"hi"})", 1024);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, "send");
  EXPECT_EQ(r->id.as_int64(), 7);
  EXPECT_EQ(*get_int(r->args, "conv"), 3);
  EXPECT_EQ(*get_string(r->args, "text"), "hi");
}

TEST(codec, each_kind_of_bad_frame_gets_its_own_code) {
  EXPECT_EQ(parse_frame("{not json", 1024).error().code, errc::malformed);
  EXPECT_EQ(parse_frame("[1,2]", 1024).error().code, errc::malformed);
  EXPECT_EQ(parse_frame("\"str\"", 1024).error().code, errc::malformed);
  EXPECT_EQ(parse_frame(R"({"id":1})", 1024).error().code, errc::missing_field);
  EXPECT_EQ(parse_frame(R"({"op":5})", 1024).error().code, errc::invalid_field);
  EXPECT_EQ(parse_frame(R"({"op":"x","id":[1]})", 1024).error().code, errc::invalid_field);
  EXPECT_EQ(parse_frame("{\"op\":\"\xC3(\"}", 1024).error().code, errc::invalid_utf8);
  EXPECT_EQ(parse_frame(std::string(2000, ' '), 1024).error().code, errc::too_large);
  // Nesting is bounded (no stack exhaustion from hostile input).
  std::string deep(10000, '[');
  EXPECT_EQ(parse_frame(R"({"op":"x","a":)" + deep, 1 << 20).error().code, errc::malformed);
}

TEST(codec, typed_field_access) {
  auto o = json::parse(R"({"n":5,"s":"x","f":1.5,"neg":-2,"arr":[1,2],"bad":[1,"a"],"big":18446744073709551615})").as_object();
  EXPECT_EQ(get_int(o, "missing").error().code, errc::missing_field);
  EXPECT_EQ(get_int(o, "s").error().code, errc::invalid_field);
  EXPECT_EQ(get_int(o, "f").error().code, errc::invalid_field);
  EXPECT_EQ(get_int(o, "big").error().code, errc::invalid_field);
  EXPECT_EQ(*get_int(o, "neg"), -2);
  EXPECT_EQ(get_string(o, "n").error().code, errc::invalid_field);
  auto nul = json::parse(R"({"t":"a\u0000b"})").as_object();
  EXPECT_EQ(get_string(nul, "t").error().code, errc::invalid_field);
  EXPECT_EQ(get_opt_string(nul, "t").error().code, errc::invalid_field);
  EXPECT_FALSE(get_opt_int(o, "missing")->has_value());
  EXPECT_EQ(get_opt_string(o, "n").error().code, errc::invalid_field);
  EXPECT_EQ(get_int_array(o, "arr", 10)->size(), 2u);
  EXPECT_EQ(get_int_array(o, "arr", 1).error().code, errc::invalid_field);
  EXPECT_EQ(get_int_array(o, "bad", 10).error().code, errc::invalid_field);
}

TEST(codec, empty_http_body_means_no_fields) {
  auto r = parse_body("  ", 100);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(codec, event_frame_splices_the_shared_event_text) {
  event ev;
  ev.conv = 4;
  ev.seq = 9;
  ev.kind = event_kind::message;
  ev.sender = 1;
  ev.device = 2;
  ev.client_id = "c1";
  ev.ts_ms = 1000;
  ev.text = "h\"i";
  ev.content_type = "text/plain";
  ev.reply_to = 3;
  auto text = event_json(ev);
  auto frame = json::parse(event_frame(17, text)).as_object();
  EXPECT_EQ(frame["type"].as_string(), "event");
  EXPECT_EQ(frame["pos"].as_int64(), 17);
  auto& e = frame["event"].as_object();
  EXPECT_EQ(e["conv"].as_int64(), 4);
  EXPECT_EQ(e["seq"].as_int64(), 9);
  EXPECT_EQ(e["text"].as_string(), "h\"i");
  EXPECT_EQ(e["reply_to"].as_int64(), 3);
}

TEST(codec, event_frame_head_plus_event_plus_brace_is_the_event_frame) {
  const std::string text = R"({"conv":1,"seq":2})";
  for (std::int64_t pos : {std::int64_t{0}, std::int64_t{1}, std::int64_t{17}, std::numeric_limits<std::int64_t>::max()}) {
    char head[event_frame_head_max];
    const auto n = event_frame_head(pos, head);
    ASSERT_LE(n, event_frame_head_max);
    EXPECT_EQ(std::string(head, n) + text + "}", event_frame(pos, text));
  }
}

TEST(codec, membership_event_carries_its_data) {
  event ev;
  ev.kind = event_kind::member_removed;
  ev.payload = member_gone_payload{5, 1};
  auto e = event_object(ev);
  EXPECT_EQ(e["data"].as_object()["user"].as_int64(), 5);
  EXPECT_FALSE(e.contains("text"));
}

TEST(codec, error_frames_name_the_code) {
  auto f = json::parse(error_frame("r1", make_error(errc::rate_limited, "slow down"))).as_object();
  EXPECT_EQ(f["type"].as_string(), "error");
  EXPECT_EQ(f["id"].as_string(), "r1");
  EXPECT_EQ(f["error"].as_object()["code"].as_string(), "rate_limited");
  EXPECT_TRUE(f["error"].as_object()["retryable"].as_bool());
}

TEST(codec, null_id_and_op_read_as_absent) {
  auto r = parse_frame(R"({"op":"ping","id":null})", 1024);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->id.is_null());
  EXPECT_EQ(parse_frame(R"({"op":null})", 1024).error().code, errc::missing_field);
  EXPECT_EQ(parse_frame(R"({"op":"ping","id":18446744073709551615})", 1024).error().code, errc::invalid_field);
}
