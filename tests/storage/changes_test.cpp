// Reactions, edits and deletes for everyone (store_changes.cpp) on each backend (one binary per
// backend, as the conformance suite): the events they append, the state history and the stream
// return per viewer, the rules under the lock, the erasure of deleted text from every table, and
// the emoji limit held by two stores (two nodes) racing on one database.
#include "backend_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

namespace confab::testing {
namespace {
namespace asio = boost::asio;

template <class T>
T run(asio::awaitable<T> a) {
  asio::io_context ioc;
  auto fut = asio::co_spawn(ioc, std::move(a), asio::use_future);
  ioc.run();
  return fut.get();
}

template <class T>
errc code(const result<T>& r) {
  return r ? errc::ok : r.error().code;
}

const std::string thumbs = "\xF0\x9F\x91\x8D", heart = "\xE2\x9D\xA4\xEF\xB8\x8F", party = "\xF0\x9F\x8E\x89";

class changes_test : public ::testing::Test {
 protected:
  void SetUp() override {
    be_ = make_backend();
    st_ = be_->open();
    for (auto [name, u, d] : {std::tuple{"owner", &owner_, &d_owner_}, std::tuple{"admin", &admin_, &d_admin_},
                              std::tuple{"mem", &mem_, &d_mem_}, std::tuple{"other", &other_, &d_other_},
                              std::tuple{"stranger", &stranger_, &d_stranger_}}) {
      *u = *run(st_->create_user(name, "h"));
      *d = run(st_->create_device(*u, "d", std::string("t-") + name))->id;
    }
    group_ = *run(st_->create_group(owner_, d_owner_, "g", {admin_, mem_, other_}));
    ASSERT_TRUE(run(st_->set_role(owner_, d_owner_, group_, admin_, conv_role::admin)));
  }
  void TearDown() override {
    if (st_) st_->stop();
  }

  std::int64_t send(id_t u, id_t d, const std::string& text, std::optional<std::int64_t> reply_to = std::nullopt) {
    auto r = run(st_->send({u, d, group_, "c" + std::to_string(++cid_), text, "text/plain", reply_to}));
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->seq : 0;
  }
  std::int64_t last_seq() {
    auto h = run(st_->history(owner_, group_, std::nullopt, std::nullopt, 1));
    EXPECT_TRUE(h);
    return h && !h->events.empty() ? h->events.back().seq : 0;
  }
  // The event at seq as viewer reads it in history.
  event at(id_t viewer, std::int64_t seq) {
    auto p = run(st_->history(viewer, group_, std::nullopt, seq - 1, 1));
    EXPECT_TRUE(p && p->events.size() == 1 && p->events[0].seq == seq);
    return p && !p->events.empty() ? p->events[0] : event{};
  }
  result<storage::change_ack> react(id_t u, id_t d, std::int64_t seq, const std::string& emoji, bool add = true,
                                    std::int64_t max = 20) {
    return run(st_->react(u, d, group_, seq, emoji, add, max));
  }
  // The events of the conversation after seq (ascending), as the owner reads them.
  std::vector<event> after(std::int64_t seq) {
    auto p = run(st_->history(owner_, group_, std::nullopt, seq, 100));
    EXPECT_TRUE(p);
    return p ? p->events : std::vector<event>{};
  }

  std::unique_ptr<backend> be_;
  std::unique_ptr<storage::store> st_;
  id_t owner_ = 0, admin_ = 0, mem_ = 0, other_ = 0, stranger_ = 0;
  id_t d_owner_ = 0, d_admin_ = 0, d_mem_ = 0, d_other_ = 0, d_stranger_ = 0;
  id_t group_ = 0;
  int cid_ = 0;
};


// ---------------------------------------------------------------- reactions

TEST_F(changes_test, reactions_are_events_idempotent_per_user_and_emoji_and_counted_per_viewer) {
  const auto m = send(mem_, d_mem_, "hello");
  auto a = react(mem_, d_mem_, m, thumbs);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->changed);
  EXPECT_EQ(a->seq, m + 1);
  auto again = react(mem_, d_mem_, m, thumbs);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);  // nothing appended, and no seq lost
  ASSERT_TRUE(react(other_, d_other_, m, heart));
  ASSERT_TRUE(react(owner_, d_owner_, m, thumbs));
  EXPECT_EQ(last_seq(), m + 3);

  auto log = after(m);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].kind, event_kind::reaction);
  EXPECT_EQ(log[0].sender, mem_);
  EXPECT_EQ(std::get<reaction_payload>(log[0].payload), (reaction_payload{m, thumbs, true, 1}));
  EXPECT_EQ(std::get<reaction_payload>(log[2].payload), (reaction_payload{m, thumbs, true, 2}));  // counts are absolute

  // Counts in the order each emoji was first added; "me" per viewer.
  auto seen_by_mem = at(mem_, m).reactions;
  EXPECT_EQ(seen_by_mem, (std::vector<reaction_count>{{thumbs, 2, true}, {heart, 1, false}}));
  EXPECT_EQ(at(other_, m).reactions, (std::vector<reaction_count>{{thumbs, 2, false}, {heart, 1, true}}));

  // unreact: idempotent too.
  auto un = react(mem_, d_mem_, m, thumbs, false);
  ASSERT_TRUE(un);
  EXPECT_TRUE(un->changed);
  auto un2 = react(mem_, d_mem_, m, thumbs, false);
  ASSERT_TRUE(un2);
  EXPECT_FALSE(un2->changed);
  EXPECT_EQ(std::get<reaction_payload>(after(m + 3).at(0).payload), (reaction_payload{m, thumbs, false, 1}));
  EXPECT_EQ(at(mem_, m).reactions, (std::vector<reaction_count>{{thumbs, 1, false}, {heart, 1, false}}));
  ASSERT_TRUE(react(other_, d_other_, m, heart, false));
  ASSERT_TRUE(react(owner_, d_owner_, m, thumbs, false));
  EXPECT_TRUE(at(mem_, m).reactions.empty());
}

// An emoji keeps its place while anyone has it, and moves to the end when it comes back: the
// order a client gets by applying the events (docs/protocol.md 4.1).
TEST_F(changes_test, emoji_keep_their_place_while_anyone_has_them) {
  const auto m = send(mem_, d_mem_, "hello");
  ASSERT_TRUE(react(mem_, d_mem_, m, thumbs));
  ASSERT_TRUE(react(other_, d_other_, m, heart));
  ASSERT_TRUE(react(owner_, d_owner_, m, thumbs));
  ASSERT_TRUE(react(mem_, d_mem_, m, thumbs, false));  // the first thumbs goes, another stays
  EXPECT_EQ(at(admin_, m).reactions, (std::vector<reaction_count>{{thumbs, 1, false}, {heart, 1, false}}));
  ASSERT_TRUE(react(owner_, d_owner_, m, thumbs, false));  // gone ...
  ASSERT_TRUE(react(admin_, d_admin_, m, thumbs));         // ... and back, at the end
  EXPECT_EQ(at(admin_, m).reactions, (std::vector<reaction_count>{{heart, 1, false}, {thumbs, 1, true}}));
}

TEST_F(changes_test, the_stream_carries_reaction_events_and_messages_with_their_reactions) {
  const auto before = run(st_->stream_head(other_));
  ASSERT_TRUE(before);
  const auto m = send(mem_, d_mem_, "hello");
  ASSERT_TRUE(react(other_, d_other_, m, party));
  auto page = run(st_->read_stream(other_, *before, 100));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].ev.reactions, (std::vector<reaction_count>{{party, 1, true}}));  // the message, as it is now
  EXPECT_EQ(page->items[1].ev.kind, event_kind::reaction);
  auto mine = run(st_->read_stream(mem_, 0, 1000));
  ASSERT_TRUE(mine);
  bool found = false;
  for (auto& it : mine->items)
    if (it.ev.seq == m) {
      found = true;
      EXPECT_EQ(it.ev.reactions, (std::vector<reaction_count>{{party, 1, false}}));
    }
  EXPECT_TRUE(found);
}

TEST_F(changes_test, a_new_emoji_over_the_limit_is_a_conflict_and_changes_nothing) {
  const auto m = send(mem_, d_mem_, "hello");
  ASSERT_TRUE(react(mem_, d_mem_, m, thumbs, true, 2));
  ASSERT_TRUE(react(mem_, d_mem_, m, heart, true, 2));
  const auto seq = last_seq();
  auto third = react(other_, d_other_, m, party, true, 2);
  EXPECT_EQ(code(third), errc::conflict);
  EXPECT_EQ(last_seq(), seq);
  EXPECT_EQ(at(mem_, m).reactions.size(), 2u);
  // Joining an emoji that is already there is fine at the limit.
  auto join = react(other_, d_other_, m, thumbs, true, 2);
  ASSERT_TRUE(join) << join.error().message;
  EXPECT_TRUE(join->changed);
}

// Two stores on one database (two nodes): the limit is checked under the conversation's lock, so
// racing new emoji never pass it.
TEST_F(changes_test, racing_stores_never_pass_the_emoji_limit) {
  auto second = be_->open();
  const std::string emoji[] = {thumbs, heart, party, "\xF0\x9F\x98\x80"};
  for (int round = 0; round < 10; ++round) {
    const auto m = send(mem_, d_mem_, "race " + std::to_string(round));
    std::vector<std::thread> ts;
    std::vector<result<storage::change_ack>> res(4, make_error(errc::internal, "not run"));
    for (int i = 0; i < 4; ++i)
      ts.emplace_back([&, i] {
        auto& st = i % 2 ? *second : *st_;
        const id_t users[] = {owner_, admin_, mem_, other_};
        const id_t devs[] = {d_owner_, d_admin_, d_mem_, d_other_};
        res[i] = run(st.react(users[i], devs[i], group_, m, emoji[i], true, 2));
      });
    for (auto& t : ts) t.join();
    int ok = 0;
    for (auto& r : res) {
      if (r) ++ok;
      else EXPECT_EQ(r.error().code, errc::conflict) << r.error().message;
    }
    EXPECT_EQ(ok, 2) << "round " << round;
    EXPECT_EQ(at(owner_, m).reactions.size(), 2u);
  }
  second->stop();
}

// ---------------------------------------------------------------- edits

TEST_F(changes_test, an_edit_replaces_the_text_keeps_the_history_and_is_an_event) {
  const auto m = send(mem_, d_mem_, "first");
  auto e1 = run(st_->edit_message(mem_, d_mem_, group_, m, "second", 0));
  ASSERT_TRUE(e1) << e1.error().message;
  auto e2 = run(st_->edit_message(mem_, d_mem_, group_, m, "third", 0));
  ASSERT_TRUE(e2);
  auto msg = at(other_, m);
  EXPECT_EQ(msg.text, "third");
  EXPECT_EQ(msg.edited_ms, e2->ts_ms);
  EXPECT_FALSE(msg.deleted);
  auto log = after(m);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].kind, event_kind::edited);
  EXPECT_EQ(std::get<edited_payload>(log[1].payload), (edited_payload{m, "third"}));
  auto hist = run(st_->edit_history(other_, group_, m));
  ASSERT_TRUE(hist);
  ASSERT_EQ(hist->size(), 3u);
  EXPECT_EQ((*hist)[0].text, "first");
  EXPECT_EQ((*hist)[0].ts_ms, at(owner_, m).ts_ms);
  EXPECT_EQ((*hist)[1].text, "second");
  EXPECT_EQ((*hist)[1].ts_ms, e1->ts_ms);
  EXPECT_EQ((*hist)[2].text, "third");
  EXPECT_EQ((*hist)[2].ts_ms, e2->ts_ms);
  // A message never edited has one version.
  const auto plain = send(other_, d_other_, "plain");
  auto one = run(st_->edit_history(mem_, group_, plain));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].text, "plain");
  EXPECT_FALSE(at(mem_, plain).edited_ms);
}

TEST_F(changes_test, only_the_sender_edits_and_only_within_the_window) {
  const auto m = send(mem_, d_mem_, "mine");
  const auto seq = last_seq();
  for (auto [u, d] : {std::pair{owner_, d_owner_}, std::pair{admin_, d_admin_}, std::pair{other_, d_other_}})
    EXPECT_EQ(code(run(st_->edit_message(u, d, group_, m, "theirs", 0))), errc::forbidden);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto late = run(st_->edit_message(mem_, d_mem_, group_, m, "late", 10));
  EXPECT_EQ(code(late), errc::forbidden);
  EXPECT_EQ(last_seq(), seq);
  EXPECT_EQ(at(mem_, m).text, "mine");
  EXPECT_TRUE(run(st_->edit_message(mem_, d_mem_, group_, m, "in time", 3'600'000)));
}

// ---------------------------------------------------------------- deletes

TEST_F(changes_test, a_delete_erases_the_text_everywhere_and_keeps_the_seq) {
  const auto m = send(mem_, d_mem_, "secret-one");
  ASSERT_TRUE(run(st_->edit_message(mem_, d_mem_, group_, m, "secret-two", 0)));
  ASSERT_TRUE(react(other_, d_other_, m, thumbs));
  const auto reply = send(other_, d_other_, "a reply", m);
  auto del = run(st_->delete_message(mem_, d_mem_, group_, m));
  ASSERT_TRUE(del) << del.error().message;
  EXPECT_EQ(del->seq, reply + 1);

  auto msg = at(other_, m);
  EXPECT_TRUE(msg.deleted);
  EXPECT_EQ(msg.text, "");
  EXPECT_FALSE(msg.edited_ms);
  EXPECT_TRUE(msg.reactions.empty());
  auto log = after(m - 1);
  ASSERT_EQ(log.size(), 5u);  // no gap: message, edited, reaction, reply, deleted
  for (std::size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i].seq, m + static_cast<std::int64_t>(i));
  EXPECT_EQ(std::get<edited_payload>(log[1].payload), (edited_payload{m, ""}));  // the edit's copy is erased too
  EXPECT_EQ(std::get<deleted_payload>(log[4].payload), (deleted_payload{m, mem_}));
  // The reply keeps pointing at the tombstone.
  EXPECT_EQ(log[3].text, "a reply");
  EXPECT_EQ(log[3].reply_to, m);
  // The stream (catch-up) shows the same.
  auto page = run(st_->read_stream(other_, 0, 1000));
  ASSERT_TRUE(page);
  for (auto& it : page->items)
    if (it.ev.conv == group_ && it.ev.seq == m) {
      EXPECT_TRUE(it.ev.deleted && it.ev.text.empty());
    }

  // Nothing is left in any table: read the database directly.
  auto raw = be_->factory()();
  ASSERT_TRUE(raw);
  for (const char* sql : {"SELECT COUNT(*) FROM events WHERE body LIKE '%secret%' OR data LIKE '%secret%'",
                          "SELECT COUNT(*) FROM edit_history", "SELECT COUNT(*) FROM reactions"}) {
    auto r = storage::query(**raw, sql);
    ASSERT_TRUE(r) << sql;
    EXPECT_EQ((*r)[0].i64(0), 0) << sql;
  }
}

// SQLite: a deleted text is gone from the database file too, not only from the rows (freed cell
// space is zeroed: secure_delete). PostgreSQL drops dead row versions at VACUUM.
TEST_F(changes_test, sqlite_file_keeps_no_copy_of_a_deleted_text) {
  if (be_->name() != "sqlite") GTEST_SKIP() << "a file check for SQLite only";
  const std::string secret = "zq-secret-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-xv";
  // Long texts, and neighbours on the same pages: freed space keeps old bytes unless zeroed.
  const std::string pad(300, 'y');
  send(mem_, d_mem_, "before " + pad);
  const auto m = send(mem_, d_mem_, pad + secret + "-1" + pad);
  ASSERT_TRUE(run(st_->edit_message(mem_, d_mem_, group_, m, pad + secret + "-2" + pad, 0)));
  send(mem_, d_mem_, "after " + pad);
  ASSERT_TRUE(run(st_->delete_message(mem_, d_mem_, group_, m)));
  std::string path;
  {
    auto raw = be_->factory()();
    ASSERT_TRUE(raw);
    auto r = storage::query(**raw, "SELECT file FROM pragma_database_list WHERE name = 'main'");
    ASSERT_TRUE(r && !r->empty());
    path = (*r)[0].str(0);
  }
  st_->stop();  // the last connection closes: the WAL is checkpointed into the file and removed
  st_.reset();
  for (const auto& p : {path, path + "-wal"}) {
    std::ifstream in(p, std::ios::binary);
    if (!in) continue;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(secret), std::string::npos) << p;
  }
}

TEST_F(changes_test, a_deleted_message_cannot_be_deleted_edited_reacted_to_or_its_history_read) {
  const auto m = send(mem_, d_mem_, "x");
  ASSERT_TRUE(run(st_->delete_message(mem_, d_mem_, group_, m)));
  const auto seq = last_seq();
  EXPECT_EQ(code(run(st_->delete_message(mem_, d_mem_, group_, m))), errc::not_found);
  EXPECT_EQ(code(run(st_->delete_message(owner_, d_owner_, group_, m))), errc::not_found);
  EXPECT_EQ(code(run(st_->edit_message(mem_, d_mem_, group_, m, "y", 0))), errc::not_found);
  EXPECT_EQ(code(react(mem_, d_mem_, m, thumbs)), errc::not_found);
  EXPECT_EQ(code(react(mem_, d_mem_, m, thumbs, false)), errc::not_found);
  EXPECT_EQ(code(run(st_->edit_history(mem_, group_, m))), errc::not_found);
  EXPECT_EQ(last_seq(), seq);
  // Replying to it is still allowed: the seq exists.
  EXPECT_GT(send(other_, d_other_, "re", m), seq);
}

TEST_F(changes_test, the_sender_or_a_group_admin_deletes_nobody_else) {
  const auto a = send(mem_, d_mem_, "a");
  const auto b = send(mem_, d_mem_, "b");
  const auto c = send(admin_, d_admin_, "c");
  const auto seq = last_seq();
  EXPECT_EQ(code(run(st_->delete_message(other_, d_other_, group_, a))), errc::forbidden);
  EXPECT_EQ(code(run(st_->delete_message(mem_, d_mem_, group_, c))), errc::forbidden);
  EXPECT_EQ(last_seq(), seq);
  EXPECT_TRUE(run(st_->delete_message(admin_, d_admin_, group_, a)));
  EXPECT_TRUE(run(st_->delete_message(owner_, d_owner_, group_, b)));
  EXPECT_TRUE(run(st_->delete_message(owner_, d_owner_, group_, c)));  // an admin's, by the owner
  // In a direct conversation only the sender.
  auto direct = run(st_->create_direct(mem_, d_mem_, other_));
  ASSERT_TRUE(direct);
  auto s = run(st_->send({mem_, d_mem_, direct->conv, "direct-1", "hi", "text/plain", std::nullopt}));
  ASSERT_TRUE(s);
  EXPECT_EQ(code(run(st_->delete_message(other_, d_other_, direct->conv, s->seq))), errc::forbidden);
  EXPECT_TRUE(run(st_->delete_message(mem_, d_mem_, direct->conv, s->seq)));
}

// ---------------------------------------------------------------- targets and membership

TEST_F(changes_test, targets_must_be_existing_messages_of_this_conversation) {
  const auto m = send(mem_, d_mem_, "x");
  const auto seq = last_seq();
  // seq 1 is the group's created event, seq 2 the role change.
  EXPECT_EQ(code(react(mem_, d_mem_, 1, thumbs)), errc::invalid_field);
  EXPECT_EQ(code(run(st_->edit_message(owner_, d_owner_, group_, 1, "y", 0))), errc::invalid_field);
  EXPECT_EQ(code(run(st_->delete_message(owner_, d_owner_, group_, 2))), errc::invalid_field);
  EXPECT_EQ(code(run(st_->edit_history(owner_, group_, 2))), errc::invalid_field);
  for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-1}, seq + 1, seq + 100}) {
    EXPECT_EQ(code(react(mem_, d_mem_, bad, thumbs)), errc::not_found) << bad;
    EXPECT_EQ(code(run(st_->edit_message(mem_, d_mem_, group_, bad, "y", 0))), errc::not_found) << bad;
    EXPECT_EQ(code(run(st_->delete_message(mem_, d_mem_, group_, bad))), errc::not_found) << bad;
    EXPECT_EQ(code(run(st_->edit_history(mem_, group_, bad))), errc::not_found) << bad;
  }
  // No such conversation; another conversation's seq names that conversation's event, if any.
  EXPECT_EQ(code(run(st_->react(mem_, d_mem_, group_ + 1000, m, thumbs, true, 20))), errc::not_found);
  auto direct = run(st_->create_direct(mem_, d_mem_, other_));
  ASSERT_TRUE(direct);
  EXPECT_EQ(code(run(st_->react(mem_, d_mem_, direct->conv, m, thumbs, true, 20))), errc::not_found);
  EXPECT_EQ(code(run(st_->delete_message(mem_, d_mem_, direct->conv, m))), errc::not_found);
  EXPECT_EQ(last_seq(), seq);
}

TEST_F(changes_test, strangers_and_former_members_change_nothing) {
  const auto m = send(mem_, d_mem_, "x");
  ASSERT_TRUE(run(st_->remove_member(owner_, d_owner_, group_, other_)));
  const auto seq = last_seq();
  for (auto [u, d] : {std::pair{stranger_, d_stranger_}, std::pair{other_, d_other_}}) {
    EXPECT_EQ(code(react(u, d, m, thumbs)), errc::forbidden);
    EXPECT_EQ(code(react(u, d, m, thumbs, false)), errc::forbidden);
    EXPECT_EQ(code(run(st_->edit_message(u, d, group_, m, "y", 0))), errc::forbidden);
    EXPECT_EQ(code(run(st_->delete_message(u, d, group_, m))), errc::forbidden);
  }
  // A former member may not even change their own message.
  const auto own = send(mem_, d_mem_, "mine");
  ASSERT_TRUE(run(st_->remove_member(owner_, d_owner_, group_, mem_)));
  const auto seq2 = last_seq();
  EXPECT_EQ(code(run(st_->edit_message(mem_, d_mem_, group_, own, "y", 0))), errc::forbidden);
  EXPECT_EQ(code(run(st_->delete_message(mem_, d_mem_, group_, own))), errc::forbidden);
  EXPECT_EQ(last_seq(), seq2);
  EXPECT_GT(seq2, seq);
  EXPECT_EQ(at(owner_, own).text, "mine");
}

TEST_F(changes_test, edit_history_is_for_members_and_former_members_up_to_their_removal) {
  const auto m = send(mem_, d_mem_, "v1");
  ASSERT_TRUE(run(st_->edit_message(mem_, d_mem_, group_, m, "v2", 0)));
  ASSERT_TRUE(run(st_->remove_member(owner_, d_owner_, group_, other_)));
  const auto later = send(mem_, d_mem_, "after");
  auto h = run(st_->edit_history(other_, group_, m));
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->size(), 2u);
  EXPECT_EQ(code(run(st_->edit_history(other_, group_, later))), errc::not_found);
  EXPECT_EQ(code(run(st_->edit_history(stranger_, group_, m))), errc::forbidden);
  EXPECT_EQ(code(run(st_->edit_history(mem_, group_ + 1000, m))), errc::not_found);
}

}  // namespace
}  // namespace confab::testing
