#include "confab_bench/fold.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

using namespace confab::bench;
namespace json = boost::json;

namespace {
void apply(message_fold& f, std::string_view ev) { f.apply(json::parse(ev).as_object()); }
const message_state& at(const message_fold& f, std::int64_t seq) { return f.messages().at({1, seq}); }
}  // namespace

TEST(message_fold, edits_replace_text_and_deletes_erase_for_good) {
  message_fold f;
  apply(f, R"({"conv":1,"seq":1,"kind":"message","sender":5,"text":"hello"})");
  apply(f, R"({"conv":1,"seq":2,"kind":"edited","sender":5,"data":{"target":1,"text":"hello!"}})");
  EXPECT_EQ(at(f, 1).text, "hello!");
  EXPECT_TRUE(at(f, 1).edited);
  apply(f, R"({"conv":1,"seq":3,"kind":"reaction","sender":6,"data":{"target":1,"emoji":"x","added":true}})");
  apply(f, R"({"conv":1,"seq":4,"kind":"deleted","sender":5,"data":{"target":1,"by":5}})");
  apply(f, R"({"conv":1,"seq":5,"kind":"edited","sender":5,"data":{"target":1,"text":"back?"}})");
  EXPECT_TRUE(at(f, 1).deleted);
  EXPECT_EQ(at(f, 1).text, "");
  EXPECT_TRUE(at(f, 1).reaction_counts().empty());
}

TEST(message_fold, reactions_are_a_set_per_emoji_and_compare_by_count) {
  message_fold a, b;
  for (auto* ev : {R"({"conv":1,"seq":1,"kind":"message","sender":5,"text":"t"})",
                   R"({"conv":1,"seq":2,"kind":"reaction","sender":6,"data":{"target":1,"emoji":"x","added":true}})",
                   R"({"conv":1,"seq":3,"kind":"reaction","sender":6,"data":{"target":1,"emoji":"x","added":true}})",
                   R"({"conv":1,"seq":4,"kind":"reaction","sender":7,"data":{"target":1,"emoji":"x","added":true}})"})
    apply(a, ev);
  EXPECT_EQ(at(a, 1).reaction_counts().at("x"), 2u) << "adding twice is one reaction";
  apply(b, R"({"conv":1,"seq":1,"kind":"message","sender":5,"text":"t"})");
  apply(b, R"({"conv":1,"seq":2,"kind":"reaction","sender":6,"data":{"target":1,"emoji":"x","added":true}})");
  EXPECT_FALSE(at(a, 1).same_as(at(b, 1)));
  apply(b, R"({"conv":1,"seq":4,"kind":"reaction","sender":7,"data":{"target":1,"emoji":"x","added":true}})");
  EXPECT_TRUE(at(a, 1).same_as(at(b, 1)));
  apply(a, R"({"conv":1,"seq":5,"kind":"reaction","sender":7,"data":{"target":1,"emoji":"x","added":false}})");
  EXPECT_EQ(at(a, 1).reaction_counts().at("x"), 1u);
}

TEST(message_fold, thread_replies_count_on_their_root) {
  message_fold f;
  apply(f, R"({"conv":1,"seq":1,"kind":"message","sender":5,"text":"root"})");
  apply(f, R"({"conv":1,"seq":2,"kind":"message","sender":6,"text":"r1","thread_root":1})");
  apply(f, R"({"conv":1,"seq":3,"kind":"members_added","sender":5,"data":{"users":[9],"by":5}})");
  apply(f, R"({"conv":1,"seq":4,"kind":"message","sender":7,"text":"r2","thread_root":1})");
  EXPECT_EQ(at(f, 1).replies, 2);
  EXPECT_EQ(at(f, 2).thread_root, 1);
  EXPECT_EQ(f.messages().size(), 3u) << "membership events are not messages";
}
