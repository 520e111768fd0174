// Channels in storage (issue 12), on each backend: creating, the directory (search, keyset pages),
// joining and leaving, heads, the paged member list, the typed refusals; that a message to a
// channel writes no stream row whatever its number of members (rows counted, members created in
// bulk by SQL); the capped unread counts and wildcard mentions stored once; what the sink is
// told; and joins and leaves racing with sends.
#include "backend_fixture.hpp"

#include "storage/db.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>

namespace confab::testing {
namespace {
namespace asio = boost::asio;

class storage_channels : public store_test {
 protected:
  void SetUp() override {
    store_test::SetUp();
    owner_ = user("owner");
    ana_ = user("ana");
    ben_ = user("ben");
  }

  id_t channel(const std::string& title, bool pub, const std::string& topic = "") {
    auto c = run(st_->create_channel(owner_, owner_, title, topic, pub));
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? *c : 0;
  }
  send_request req(id_t u, id_t conv, const std::string& text) {
    return send_request{u, u, conv, "c" + std::to_string(++cid_), text, "text/plain", std::nullopt};
  }
  result<send_ack> send(id_t u, id_t conv, const std::string& text = "hi") { return run(st_->send(req(u, conv, text))); }

  std::int64_t count(const std::string& sql) {
    auto raw = be_->factory()();
    EXPECT_TRUE(raw);
    if (!raw) return -1;
    auto r = storage::query(**raw, sql);
    EXPECT_TRUE(r) << sql << (r ? "" : ": " + r.error().message);
    return r ? (*r)[0].i64(0) : -1;
  }
  void exec(const std::string& sql) {
    auto raw = be_->factory()();
    ASSERT_TRUE(raw);
    auto r = (*raw)->exec(sql);
    ASSERT_TRUE(r) << sql << (r ? "" : ": " + r.error().message);
  }
  // n users made by SQL, all added to conv as members (the trigger counts them).
  void bulk_members(id_t conv, int n) {
    exec("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + std::to_string(n) +
         ") INSERT INTO users (username, password_hash, created_ms) SELECT 'bulk' || i, 'x', 0 FROM k");
    exec("INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT " + std::to_string(conv) +
         ", id, 'member', 1 FROM users WHERE username LIKE 'bulk%'");
  }
  std::int64_t stream_rows() { return count("SELECT COUNT(*) FROM stream"); }
  conversation_summary summary(id_t u, id_t conv) {
    auto s = run(st_->conversation(u, conv));
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? *s : conversation_summary{};
  }

  int cid_ = 0;
  id_t owner_ = 0, ana_ = 0, ben_ = 0;
};

TEST_F(storage_channels, create_join_leave_and_the_streams_see_only_their_own_membership) {
  const auto ch = channel("General", true, "all talk");
  auto s = summary(owner_, ch);
  EXPECT_EQ(s.kind, conv_kind::channel);
  EXPECT_EQ(s.role, conv_role::owner);
  ASSERT_TRUE(s.channel);
  EXPECT_TRUE(s.channel->is_public);
  EXPECT_EQ(s.channel->topic, "all talk");
  EXPECT_EQ(s.channel->member_count, 1);

  auto j = run(st_->join_channel(ana_, ana_, ch));
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ(*j, 2);
  EXPECT_EQ(summary(ana_, ch).read_seq, 2) << "a joiner's read pointer starts at the join";
  ASSERT_TRUE(send(owner_, ch, "one"));
  ASSERT_TRUE(run(st_->join_channel(ben_, ben_, ch)));
  ASSERT_TRUE(send(ana_, ch, "two"));
  auto left = run(st_->remove_member(ana_, ana_, ch, ana_));
  ASSERT_TRUE(left);

  // ana's stream: her join (seq 2) and her leave, nothing else of the channel.
  auto page = run(st_->read_stream(ana_, 0, 100));
  ASSERT_TRUE(page);
  std::vector<std::pair<event_kind, std::int64_t>> got;
  for (auto& it : page->items) got.emplace_back(it.ev.kind, it.ev.seq);
  EXPECT_EQ(got, (std::vector<std::pair<event_kind, std::int64_t>>{{event_kind::members_added, 2}, {event_kind::member_left, *left}}));
  // The owner's stream holds only the channel's creation.
  auto own = run(st_->read_stream(owner_, 0, 100));
  ASSERT_TRUE(own);
  ASSERT_EQ(own->items.size(), 1u);
  EXPECT_EQ(own->items[0].ev.kind, event_kind::created);
  // The log has everything, in order.
  auto h = run(st_->history(ben_, ch, std::nullopt, 0, 100));
  ASSERT_TRUE(h);
  ASSERT_EQ(h->events.size(), 6u);
  for (std::size_t i = 0; i < h->events.size(); ++i) EXPECT_EQ(h->events[i].seq, static_cast<std::int64_t>(i + 1));
  EXPECT_EQ(run(st_->channel(owner_, ch))->member_count, 2);

  // Refusals, typed.
  EXPECT_EQ(run(st_->join_channel(ben_, ben_, ch)).error().code, errc::conflict);
  EXPECT_EQ(run(st_->join_channel(ben_, ben_, 999999)).error().code, errc::not_found);
  EXPECT_EQ(run(st_->members(owner_, ch)).error().code, errc::invalid_field);
  EXPECT_EQ(run(st_->receipts(owner_, ch)).error().code, errc::invalid_field);
  EXPECT_EQ(send(ana_, ch).error().code, errc::forbidden) << "a former member cannot post";
  EXPECT_EQ(run(st_->remove_member(owner_, owner_, ch, owner_)).error().code, errc::forbidden) << "the owner leaves last";
}

TEST_F(storage_channels, private_channels_are_hidden_and_joined_by_invitation_only) {
  const auto priv = channel("Secret", false);
  const auto group = run(st_->create_group(owner_, owner_, "Group", {}));
  ASSERT_TRUE(group);
  EXPECT_EQ(run(st_->join_channel(ana_, ana_, priv)).error().code, errc::not_found);
  EXPECT_EQ(run(st_->join_channel(ana_, ana_, *group)).error().code, errc::not_found) << "a group is not a channel";
  EXPECT_EQ(run(st_->channel(ana_, priv)).error().code, errc::not_found);
  EXPECT_EQ(run(st_->channel(ana_, *group)).error().code, errc::not_found);
  auto dir = run(st_->channel_directory(ana_, "", {}, 50));
  ASSERT_TRUE(dir);
  EXPECT_TRUE(dir->empty());
  ASSERT_TRUE(run(st_->add_members(owner_, owner_, priv, {ana_})));
  auto seen = run(st_->channel(ana_, priv));
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->joined);
  EXPECT_FALSE(seen->is_public);
  EXPECT_EQ(seen->member_count, 2);
  // A member who is not an admin cannot invite; a banned user cannot join a public channel.
  EXPECT_EQ(run(st_->add_members(ana_, ana_, priv, {ben_})).error().code, errc::forbidden);
  const auto pub = channel("Open", true);
  ASSERT_TRUE(run(st_->ban_member(owner_, owner_, pub, ben_, true)));
  EXPECT_EQ(run(st_->join_channel(ben_, ben_, pub)).error().code, errc::forbidden);
}

TEST_F(storage_channels, directory_searches_title_and_topic_and_pages_by_title) {
  channel("beta", true);
  channel("Alpha", true, "the DevOps corner");
  channel("gamma_1", true);
  channel("devs", true);
  channel("hidden dev", false);
  auto all = run(st_->channel_directory(ana_, "", {}, 50));
  ASSERT_TRUE(all);
  std::vector<std::string> titles;
  for (auto& c : *all) titles.push_back(c.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"Alpha", "beta", "devs", "gamma_1"})) << "byte order, public only";
  // Keyset pages of 2 give the same list.
  auto p1 = run(st_->channel_directory(ana_, "", {}, 2));
  ASSERT_TRUE(p1 && p1->size() == 2u);
  auto p2 = run(st_->channel_directory(ana_, "", {p1->back().title, p1->back().conv}, 2));
  ASSERT_TRUE(p2 && p2->size() == 2u);
  EXPECT_EQ((*p2)[0].title, "devs");
  EXPECT_EQ((*p2)[1].title, "gamma_1");
  auto p3 = run(st_->channel_directory(ana_, "", {p2->back().title, p2->back().conv}, 2));
  ASSERT_TRUE(p3);
  EXPECT_TRUE(p3->empty());
  // Search: case-insensitive on ASCII, title or topic; LIKE's characters match themselves.
  auto dev = run(st_->channel_directory(ana_, "DEV", {}, 50));
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->size(), 2u);
  EXPECT_EQ((*dev)[0].title, "Alpha");
  EXPECT_EQ((*dev)[1].title, "devs");
  auto under = run(st_->channel_directory(ana_, "a_", {}, 50));
  ASSERT_TRUE(under);
  ASSERT_EQ(under->size(), 1u);
  EXPECT_EQ((*under)[0].title, "gamma_1");
  auto pct = run(st_->channel_directory(ana_, "%", {}, 50));
  ASSERT_TRUE(pct);
  EXPECT_TRUE(pct->empty());
}

TEST_F(storage_channels, heads_and_member_pages) {
  std::vector<id_t> chans;
  for (int i = 0; i < 5; ++i) {
    chans.push_back(channel("c" + std::to_string(i), true));
    ASSERT_TRUE(run(st_->join_channel(ana_, ana_, chans.back())));
  }
  ASSERT_TRUE(send(owner_, chans[1]));
  ASSERT_TRUE(send(owner_, chans[1]));
  ASSERT_TRUE(run(st_->remove_member(ana_, ana_, chans[3], ana_)));
  const auto group = run(st_->create_group(owner_, owner_, "G", {ana_}));
  ASSERT_TRUE(group);
  auto h1 = run(st_->channel_heads(ana_, 0, 2));
  ASSERT_TRUE(h1 && h1->size() == 2u);
  auto h2 = run(st_->channel_heads(ana_, h1->back().conv, 1000));
  ASSERT_TRUE(h2);
  std::vector<id_t> convs;
  for (auto& h : *h1) convs.push_back(h.conv);
  for (auto& h : *h2) convs.push_back(h.conv);
  EXPECT_EQ(convs, (std::vector<id_t>{chans[0], chans[1], chans[2], chans[4]})) << "active channels only, no group";
  EXPECT_EQ((*h1)[1].last_seq, 4);
  EXPECT_EQ((*h1)[1].joined_seq, 2);
  EXPECT_EQ((*h1)[1].read_seq, 2);

  bulk_members(chans[0], 120);
  auto pg1 = run(st_->channel_members(ana_, chans[0], 0, 100));
  ASSERT_TRUE(pg1);
  EXPECT_EQ(pg1->member_count, 122);
  ASSERT_EQ(pg1->members.size(), 100u);
  auto pg2 = run(st_->channel_members(ana_, chans[0], pg1->members.back().user_id, 100));
  ASSERT_TRUE(pg2);
  EXPECT_EQ(pg2->members.size(), 22u);
  std::set<id_t> ids;
  for (auto& m : pg1->members) ids.insert(m.user_id);
  for (auto& m : pg2->members) ids.insert(m.user_id);
  EXPECT_EQ(ids.size(), 122u);
  EXPECT_EQ(run(st_->channel_members(ben_, chans[0], 0, 10)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->channel_members(ana_, *group, 0, 10)).error().code, errc::not_found);
}

// The point: the rows a message writes do not grow with the members. Counted, not timed.
TEST_F(storage_channels, a_message_to_thousands_of_members_writes_no_stream_row) {
  const auto ch = channel("Big", true);
  bulk_members(ch, 5000);
  EXPECT_EQ(run(st_->channel(owner_, ch))->member_count, 5001);
  const auto group = run(st_->create_group(owner_, owner_, "Small", {ana_, ben_}));
  ASSERT_TRUE(group);
  const auto before = stream_rows();
  const auto events_before = count("SELECT COUNT(*) FROM events");
  for (int i = 0; i < 20; ++i) {
    auto r = req(owner_, ch, "to everyone @all");
    r.mention_all = true;  // as chat/messages.cpp tokenizes it
    r.wildcard_limit = 100000;
    ASSERT_TRUE(run(st_->send(r)));
  }
  EXPECT_EQ(stream_rows(), before) << "0 stream rows per channel message";
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), events_before + 20) << "one events row per message";
  EXPECT_EQ(count("SELECT COUNT(*) FROM mentions"), 0) << "@all in a channel is stored once, with the message";
  // The same path for a group still writes a row per member (the control: the count can fail).
  ASSERT_TRUE(send(owner_, *group));
  EXPECT_EQ(stream_rows(), before + 3);
  // Every member sees the wildcard mentions and the unread count, from read_seq.
  auto bulk = run(st_->find_user_id("bulk77"));
  ASSERT_TRUE(bulk);
  auto s = summary(*bulk, ch);
  EXPECT_EQ(s.unread, 20);
  EXPECT_EQ(s.unread_mentions, 20);
  EXPECT_EQ(summary(owner_, ch).unread_mentions, 0) << "not one's own";
}

TEST_F(storage_channels, unread_is_capped_at_1000_and_exact_below) {
  const auto ch = channel("Busy", true);
  ASSERT_TRUE(run(st_->join_channel(ana_, ana_, ch)));
  // 1005 messages by SQL (a send each would only make the test slow): seqs 3..1007.
  exec("WITH RECURSIVE k(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM k WHERE i < 1007) "
       "INSERT INTO events (conv_id, seq, kind, sender_id, device_id, ts_ms, body, content_type, data, deleted, thread_flags, mentions) "
       "SELECT " + std::to_string(ch) + ", i, 'message', " + std::to_string(owner_) + ", " + std::to_string(owner_) +
       ", 0, 'x', 'text/plain', '', 0, 0, '' FROM k");
  exec("UPDATE conversations SET last_seq = 1007 WHERE id = " + std::to_string(ch));
  EXPECT_EQ(summary(ana_, ch).unread, 1000);
  ASSERT_TRUE(run(st_->mark_read(ana_, 0, ch, 1000)));
  EXPECT_EQ(summary(ana_, ch).unread, 7);
}

TEST_F(storage_channels, the_sink_gets_channel_events_without_recipients_but_the_joiners) {
  const auto ch = channel("Live", true);
  ASSERT_TRUE(run(st_->join_channel(ana_, ana_, ch)));
  ASSERT_TRUE(send(owner_, ch));
  ASSERT_TRUE(run(st_->react(ana_, ana_, ch, 3, "👍", true, 20)));
  std::lock_guard l(sink_.mu);
  ASSERT_EQ(sink_.seen.size(), 4u);
  for (auto& [ev, to] : sink_.seen) EXPECT_TRUE(ev.channel);
  ASSERT_EQ(sink_.seen[0].second.size(), 1u);
  EXPECT_EQ(sink_.seen[0].second[0].user_id, owner_);  // created: the owner
  ASSERT_EQ(sink_.seen[1].second.size(), 1u);
  EXPECT_EQ(sink_.seen[1].second[0].user_id, ana_);  // the join: the joiner only
  EXPECT_TRUE(sink_.seen[2].second.empty());         // the message: nobody's stream
  EXPECT_TRUE(sink_.seen[3].second.empty());         // the reaction: nobody's stream
}

// Joins and leaves racing with sends: every send is either committed (and in the log once) or
// refused as not a member; the member count matches the members; no channel message reaches a
// stream; each user's stream alternates join/leave.
TEST_F(storage_channels, joins_and_leaves_race_with_sends) {
  const auto ch = channel("Race", true);
  std::vector<id_t> users;
  for (int i = 0; i < 6; ++i) users.push_back(user("racer" + std::to_string(i)));
  std::vector<std::future<void>> done;
  std::atomic<int> acked{0};
  for (auto u : users) {
    done.push_back(asio::co_spawn(
        ioc_,
        [&, u]() -> asio::awaitable<void> {
          for (int round = 0; round < 8; ++round) {
            if (round % 2 == 0) {
              auto j = co_await st_->join_channel(u, u, ch);
              EXPECT_TRUE(j) << (j ? "" : j.error().message);
            } else {
              auto l = co_await st_->remove_member(u, u, ch, u);
              EXPECT_TRUE(l) << (l ? "" : l.error().message);
            }
            auto r = req(u, ch, "m");
            auto a = co_await st_->send(r);
            if (a) ++acked;
            else EXPECT_EQ(a.error().code, errc::forbidden);
          }
        },
        asio::use_future));
  }
  ioc_.restart();
  ioc_.run();
  for (auto& f : done) f.get();
  EXPECT_EQ(acked.load(), 6 * 4) << "sends after a join commit, sends after a leave are refused";
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE kind = 'message' AND conv_id = " + std::to_string(ch)), 24);
  EXPECT_EQ(count("SELECT COUNT(*) FROM stream s JOIN events e ON e.conv_id = s.conv_id AND e.seq = s.seq "
                  "WHERE e.kind = 'message' AND s.conv_id = " + std::to_string(ch)),
            0);
  EXPECT_EQ(run(st_->channel(owner_, ch))->member_count,
            count("SELECT COUNT(*) FROM members WHERE left_seq IS NULL AND conv_id = " + std::to_string(ch)));
  for (auto u : users) {
    auto page = run(st_->read_stream(u, 0, 100));
    ASSERT_TRUE(page);
    ASSERT_EQ(page->items.size(), 8u);
    for (std::size_t i = 0; i < page->items.size(); ++i)
      EXPECT_EQ(page->items[i].ev.kind, i % 2 == 0 ? event_kind::members_added : event_kind::member_left);
  }
}

}  // namespace
}  // namespace confab::testing
