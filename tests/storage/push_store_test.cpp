// The push queue in storage (issue 15), on each backend (linked like conformance_test.cpp): who
// gets a push for a message (the enqueue-time rules of docs/push.md), a batch queued twice, claims
// and their leases (two stores racing over one database), outcomes only from the claim holder, a
// dead target removed only while unchanged, clears queued with the read pointer, and targets gone
// with a signed-out device.
#include "backend_fixture.hpp"

#include "core/time.hpp"
#include "storage/push_store.hpp"
#include "storage/strategy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

namespace confab::testing {
namespace {
namespace asio = boost::asio;
using storage::push_outcome;
using storage::push_row;

class storage_push : public store_test {
 protected:
  storage::push_store& push() { return st_->push(); }

  id_t device(id_t user, bool with_target = true) {
    auto d = run(st_->create_device(user, "phone", "tok" + std::to_string(++n_)));
    EXPECT_TRUE(d);
    if (with_target && d) target(user, d->id, "t" + std::to_string(d->id));
    return d ? d->id : 0;
  }
  void target(id_t user, id_t dev, const std::string& text) {
    auto r = run(push().set_target({dev, user, "fcm", text}));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
  }
  // Sends, and returns the committed event as the feed would hand it to the push consumer.
  event send(id_t u, id_t conv, const std::string& text, std::optional<std::int64_t> root = std::nullopt,
             std::vector<std::string> names = {}, bool all = false) {
    send_request r{u, u, conv, "c" + std::to_string(++n_), text, "text/plain", std::nullopt};
    r.thread_root = root;
    r.mention_names = std::move(names);
    r.mention_all = all;
    auto a = run(st_->send(r));
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    for (auto& [ev, to] : sink_.seen)
      if (a && ev.conv == conv && ev.seq == a->seq) return ev;
    ADD_FAILURE() << "no committed event";
    return {};
  }
  std::int64_t enqueue(const event& ev, std::int64_t grace = 0) {
    auto n = run(push().enqueue({ev}, grace));
    EXPECT_TRUE(n) << (n ? "" : n.error().message);
    return n ? *n : -1;
  }
  std::vector<push_row> rows(id_t user, id_t conv, std::int64_t seq) {
    auto r = run(push().rows(user, conv, seq));
    EXPECT_TRUE(r);
    return r ? *r : std::vector<push_row>{};
  }
  std::vector<storage::push_job> claim(const std::string& holder, std::int64_t lease = 60000) {
    auto r = run(push().claim(holder, 1000, lease));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : std::vector<storage::push_job>{};
  }
  void finish(const std::string& holder, std::vector<push_outcome> o) {
    auto r = run(push().finish(holder, std::move(o)));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
  }
  id_t group(id_t owner, std::vector<id_t> members) { return *run(st_->create_group(owner, owner, "g", members)); }
  // Every claimed row recorded sent by holder; the outcomes.
  std::vector<push_outcome> send_all(const std::string& holder) {
    std::vector<push_outcome> sent;
    for (auto& j : claim(holder)) sent.push_back({j.id, "sent", "200", std::nullopt, "", j.attempts});
    finish(holder, sent);
    return sent;
  }

  int n_ = 0;
};

std::set<id_t> devices_of(const std::vector<push_row>& rows) {
  std::set<id_t> out;
  for (auto& r : rows) out.insert(r.device);
  return out;
}

TEST_F(storage_push, a_message_queues_one_push_per_recipient_device_with_a_target_once) {
  const id_t a = user("ana"), b = user("ben"), c = user("cid");
  const id_t a1 = device(a), b1 = device(b), b2 = device(b);
  device(c, false);  // no target: nothing to queue
  const id_t g = group(a, {b, c});
  auto ev = send(a, g, "hello");
  EXPECT_EQ(enqueue(ev, 2000), 2);
  EXPECT_EQ(enqueue(ev, 2000), 0) << "a batch the feed delivers twice queues nothing twice";
  auto rs = rows(b, g, ev.seq);
  EXPECT_EQ(devices_of(rs), (std::set<id_t>{b1, b2}));
  for (auto& r : rs) {
    EXPECT_EQ(r.state, "queued");
    EXPECT_EQ(r.rule, "all");
    EXPECT_EQ(r.due_ms, ev.ts_ms + 2000);
  }
  EXPECT_TRUE(rows(a, g, ev.seq).empty()) << "the sender's devices get nothing";
  (void)a1;
  EXPECT_TRUE(claim("n1").empty()) << "not due before the grace period";
}

TEST_F(storage_push, levels_mutes_and_mentions_decide) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  device(b);
  const id_t g = group(a, {b});
  ASSERT_TRUE(run(st_->set_notify(b, g, {"mentions", std::nullopt})));
  EXPECT_EQ(enqueue(send(a, g, "plain")), 0);
  auto named = send(a, g, "hi @ben", std::nullopt, {"ben"});
  EXPECT_EQ(enqueue(named), 1);
  EXPECT_EQ(rows(b, g, named.seq).at(0).rule, "mention");
  EXPECT_EQ(enqueue(send(a, g, "@all", std::nullopt, {}, true)), 1) << "@all mentions everyone";

  ASSERT_TRUE(run(st_->set_notify(b, g, {"none", std::nullopt})));
  EXPECT_EQ(enqueue(send(a, g, "hi @ben", std::nullopt, {"ben"})), 0) << "level none: not even a mention";

  ASSERT_TRUE(run(st_->set_notify(b, g, {"all", now_ms() + 3600000})));
  EXPECT_EQ(enqueue(send(a, g, "hi @ben", std::nullopt, {"ben"})), 0) << "muted";
  ASSERT_TRUE(run(st_->set_notify(b, g, {"all", std::nullopt})));
  EXPECT_EQ(enqueue(send(a, g, "unmuted")), 1);
}

TEST_F(storage_push, thread_replies_go_to_followers_and_the_mentioned) {
  const id_t a = user("ana"), b = user("ben"), c = user("cid");
  device(a);
  device(b);
  device(c);
  const id_t g = group(a, {b, c});
  auto root = send(a, g, "root");
  auto r1 = send(b, g, "reply", root.seq);  // ana (the root's sender) follows from the first reply
  EXPECT_EQ(enqueue(r1), 1);
  EXPECT_EQ(rows(a, g, r1.seq).at(0).rule, "thread");
  EXPECT_TRUE(rows(c, g, r1.seq).empty()) << "cid does not follow the thread";
  auto r2 = send(b, g, "@cid look", root.seq, {"cid"});
  EXPECT_EQ(enqueue(r2), 2);
  EXPECT_EQ(rows(c, g, r2.seq).at(0).rule, "mention");
}

// In a channel a member hears mentions until they choose "all" (chat::default_notify_level): a
// channel's messages queue pushes for the mentioned and for those who asked for all, not one per
// member's device; the summary says so, and the badge counts the same way.
TEST_F(storage_push, a_channel_pushes_mentions_unless_a_member_chose_all) {
  const id_t a = user("ana"), b = user("ben"), c = user("cy");
  const id_t a1 = device(a), b1 = device(b), c1 = device(c);
  auto ch = run(st_->create_channel(a, a1, "town", "", true));
  ASSERT_TRUE(ch);
  ASSERT_TRUE(run(st_->join_channel(b, b1, *ch)));
  ASSERT_TRUE(run(st_->join_channel(c, c1, *ch)));
  ASSERT_TRUE(run(st_->set_notify(c, *ch, {"all", std::nullopt})));
  auto summary = run(st_->conversation(b, *ch));
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->notify, "mentions") << "a channel member's level until they choose";
  const id_t g = group(a, {b});
  EXPECT_EQ(run(st_->conversation(b, g))->notify, "all") << "a group's default is unchanged";

  auto plain = send(a, *ch, "news");
  EXPECT_EQ(enqueue(plain), 1) << "only cy, who chose all";
  EXPECT_TRUE(rows(b, *ch, plain.seq).empty());
  EXPECT_EQ(rows(c, *ch, plain.seq).size(), 1u);
  auto mention = send(a, *ch, "@ben look", std::nullopt, {"ben"});
  EXPECT_EQ(enqueue(mention), 2) << "ben is mentioned, cy hears all";
  EXPECT_EQ(rows(b, *ch, mention.seq).at(0).rule, "mention");

  auto facts = run(push().facts(b, *ch, plain.seq));
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->level, "mentions") << "push_explain gives the rule that decided";

  std::map<id_t, std::int64_t> badge;
  for (const auto& j : claim("n1")) badge[j.device] = j.unread;
  EXPECT_EQ(badge.at(b1), 1) << "ben: his one mention, not both messages";
  EXPECT_EQ(badge.at(c1), 2) << "cy: both messages";
}

TEST_F(storage_push, only_members_at_the_message_get_it) {
  const id_t a = user("ana"), b = user("ben"), c = user("cid");
  device(a);
  device(b);
  device(c);
  const id_t g = group(a, {b});
  auto before = send(a, g, "before cid");
  ASSERT_TRUE(run(st_->add_members(a, a, g, {c})));
  ASSERT_TRUE(run(st_->remove_member(a, a, g, b)));
  auto after = send(a, g, "after");
  EXPECT_EQ(enqueue(after), 1);
  EXPECT_EQ(rows(c, g, after.seq).size(), 1u);
  EXPECT_TRUE(rows(b, g, after.seq).empty()) << "ben left";
  EXPECT_EQ(enqueue(before), 1) << "only ben was a member then (a late batch)";
  EXPECT_EQ(rows(b, g, before.seq).size(), 1u);
}

TEST_F(storage_push, a_claim_carries_what_the_send_needs) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  const id_t b1 = device(b);
  const auto [d, is_new] = *run(st_->create_direct(a, a, b));
  auto m1 = send(a, d, "one");
  auto m2 = send(a, d, "two");
  ASSERT_TRUE(run(st_->mark_delivered(b, b1, d, m1.seq)));
  EXPECT_EQ(enqueue(m2), 1);
  auto jobs = claim("n1");
  ASSERT_EQ(jobs.size(), 1u);
  const auto& j = jobs[0];
  EXPECT_EQ(j.device, b1);
  EXPECT_EQ(j.kind, "message");
  EXPECT_EQ(j.attempts, 1);
  ASSERT_TRUE(j.target);
  EXPECT_EQ(j.target->target, "t" + std::to_string(b1));
  EXPECT_EQ(j.device_delivered, m1.seq);
  EXPECT_EQ(j.sender, "ana");
  EXPECT_EQ(j.text, "two");
  EXPECT_EQ(j.unread, 2) << "the badge: both messages unread";
  (void)is_new;
}

// One claim reads the badges of all its users in one statement: each user's own unread, by level.
TEST_F(storage_push, a_claim_gives_each_user_their_own_badge_by_level_and_mute) {
  const id_t a = user("ana"), b = user("ben"), c = user("cy");
  device(a);
  const id_t b1 = device(b), c1 = device(c);
  const id_t all = group(a, {b, c}), some = group(a, {b, c}), quiet = group(a, {b, c});
  ASSERT_TRUE(run(st_->set_notify(b, some, {"mentions", std::nullopt})));
  ASSERT_TRUE(run(st_->set_notify(b, quiet, {"all", now_ms() + 3600000})));
  ASSERT_TRUE(run(st_->set_notify(c, quiet, {"none", std::nullopt})));
  send(b, all, "ben's own");  // not unread for ben (sending reads up to it); unread for cy
  send(a, all, "one");
  send(a, all, "two");
  send(a, some, "plain");
  send(a, some, "hi @ben", std::nullopt, {"ben"});
  send(a, quiet, "shh");
  EXPECT_EQ(enqueue(send(a, all, "three")), 2);
  std::map<id_t, std::int64_t> badge;
  for (const auto& j : claim("n1")) badge[j.device] = j.unread;
  ASSERT_EQ(badge.size(), 2u);
  EXPECT_EQ(badge[b1], 3 + 1) << "ben: three in the group at all, one mention where he hears mentions, none muted";
  EXPECT_EQ(badge[c1], 4 + 2) << "cy: four in the group (ben's too), both in the second, none where she hears nothing";
}

// Straight on the database: badges with the shared scan's window and the per-conversation
// cap made small, so that each way a count is settled is reached with a few messages.
class storage_push_db : public storage_push {
 protected:
  std::map<id_t, std::int64_t> badges(std::vector<id_t> users, std::int64_t window, std::int64_t cap) {
    auto raw = be_->factory()();
    EXPECT_TRUE(raw);
    if (!raw) return {};
    auto r = storage::detail::push_badges(**raw, users, window, cap);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : std::map<id_t, std::int64_t>{};
  }
  void exec(const std::string& sql) {
    auto raw = be_->factory()();
    ASSERT_TRUE(raw);
    auto r = (*raw)->exec(sql);
    ASSERT_TRUE(r) << sql << (r ? "" : ": " + r.error().message);
  }
  // PostgreSQL: n queue rows in state, then ANALYZE (the statistics the planner will use).
  void analyzed_queue(int n, const std::string& state) {
    exec("INSERT INTO push_queue (device_id, user_id, conv_id, seq, kind, state, due_ms, created_ms, updated_ms) "
         "SELECT i, 1, 1, i, 'message', '" + state + "', i, 0, 0 FROM generate_series(1, " + std::to_string(n) + ") i");
    exec("ANALYZE push_queue");
  }
  static std::string plan_text(const storage::rows& r) {
    std::string text;
    for (const auto& x : r) text += x.str(0) + "\n";
    return text;
  }
};

// Members at the same read pointer share one count of the messages after it, less their own:
// ben's messages after his (moved back) pointer count for cy, not for him.
TEST_F(storage_push_db, members_at_one_read_pointer_each_count_only_the_others_messages) {
  const id_t a = user("ana"), b = user("ben"), c = user("cy");
  const id_t g = group(a, {b, c});
  send(b, g, "ben one");
  send(a, g, "ana one");
  send(b, g, "ben two");
  exec("UPDATE members SET read_seq = 0 WHERE conv_id = " + std::to_string(g));
  const auto n = badges({a, b, c}, 100, 100);
  EXPECT_EQ(n.at(a), 2) << "ana: ben's two";
  EXPECT_EQ(n.at(b), 1) << "ben: ana's one";
  EXPECT_EQ(n.at(c), 3) << "cy: all three";
}

// Past the cap a conversation counts as the cap, whether the window saw all of it or only a part.
TEST_F(storage_push_db, a_conversation_counts_at_most_the_cap) {
  const id_t a = user("ana"), b = user("ben");
  const id_t g = group(a, {b});
  for (int i = 0; i < 6; ++i) send(a, g, "m" + std::to_string(i));
  EXPECT_EQ(badges({b}, 100, 4).at(b), 4) << "the window holds all six";
  EXPECT_EQ(badges({b}, 5, 4).at(b), 4) << "the window holds five";
  EXPECT_EQ(badges({b}, 100, 100).at(b), 6);
}

// A window that ends before the conversation and holds fewer than the cap by others (thread
// replies and the member's own messages fill it) does not settle the count: the member's own
// scan does, and finds the messages past the window.
TEST_F(storage_push_db, a_window_that_does_not_reach_the_cap_or_the_end_is_not_the_count) {
  const id_t a = user("ana"), b = user("ben");
  const id_t g = group(a, {b});
  auto root = send(a, g, "root");
  for (int i = 0; i < 4; ++i) send(a, g, "reply " + std::to_string(i), root.seq);
  send(b, g, "ben's own");
  send(a, g, "after one");
  send(a, g, "after two");
  exec("UPDATE members SET read_seq = " + std::to_string(root.seq) + " WHERE conv_id = " + std::to_string(g));
  EXPECT_EQ(badges({b}, 5, 100).at(b), 2) << "ana's two messages after the window of five seqs";
  EXPECT_EQ(badges({b}, 100, 100).at(b), 2) << "the same when the window holds them";
  EXPECT_EQ(badges({a}, 5, 100).at(a), 1) << "ana: ben's one, past the window as well";
}

// The claim's row choice walks the due index in order and stops at its limit, even where the
// planner would rather filter every due row and sort them (it did so with statistics from a moment
// the queue held few due rows: 18 ms per claim with 17 000 due). A high random_page_cost stands for
// such statistics here: the planner then prefers a sort, as the plain query shows.
TEST_F(storage_push_db, a_queue_scan_walks_the_ordered_index_whatever_the_planner_prefers) {
  if (be_->name() != "postgres") GTEST_SKIP() << "SQLite's planner walks the ordered index already";
  analyzed_queue(3000, "queued");
  auto raw = be_->factory()();
  ASSERT_TRUE(raw);
  auto& c = **raw;
  ASSERT_TRUE(c.exec("BEGIN"));
  ASSERT_TRUE(c.exec("SET LOCAL random_page_cost = 1000"));
  const std::string sql = "EXPLAIN SELECT id FROM push_queue WHERE state = 'queued' AND due_ms <= $1 ORDER BY due_ms LIMIT 1000";
  const std::vector<storage::param> ps{std::int64_t{5000}};
  const auto plan = plan_text;
  auto plain = c.query_planned(sql, ps);
  ASSERT_TRUE(plain);
  ASSERT_NE(plan(*plain).find("Sort"), std::string::npos) << "the setup must make a sort look cheaper:\n" << plan(*plain);
  auto first = c.strategy()->query_indexed(c, sql, ps);
  ASSERT_TRUE(first);
  EXPECT_EQ(plan(*first).find("Sort"), std::string::npos) << plan(*first);
  EXPECT_NE(plan(*first).find("Index Scan using push_queue_due"), std::string::npos) << plan(*first);
  auto after = c.query_planned(
      "SELECT current_setting('enable_sort') || current_setting('enable_seqscan') || current_setting('enable_bitmapscan')", {});
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)[0].str(0), "ononon") << "the transaction's other statements plan as before";
  ASSERT_TRUE(c.exec("COMMIT"));
}

// Statements that change queue rows by id look the ids up, even where statistics from a moment
// few rows were queued make PostgreSQL think reading every queued row through push_queue_due (or
// the whole table) is cheaper: it did so for every finish and claim, 7-200 ms each with 20 000
// queued. The "still queued" check is written so that it cannot be answered by that index.
TEST_F(storage_push_db, rows_picked_by_id_are_looked_up_by_id_whatever_the_statistics_say) {
  if (be_->name() != "postgres") GTEST_SKIP() << "a PostgreSQL plan";
  analyzed_queue(20000, "sent");
  exec("UPDATE push_queue SET state = 'queued'");  // a burst the statistics have not seen
  auto raw = be_->factory()();
  ASSERT_TRUE(raw);
  auto& c = **raw;
  std::string ids;
  for (int i = 1; i <= 500; ++i) ids += (ids.empty() ? "" : ", ") + std::to_string(i * 7);
  // As the queue's statements run: in a transaction, through query_indexed.
  ASSERT_TRUE(c.exec("BEGIN"));
  auto plan = [&](const std::string& check) {
    const std::string sql = "EXPLAIN UPDATE push_queue SET updated_ms = 1 WHERE id IN (" + ids + ") AND " + check;
    auto r = c.strategy()->query_indexed(c, sql, {});
    EXPECT_TRUE(r);
    return r ? plan_text(*r) : std::string();
  };
  const auto plain = plan("state = 'queued'");
  ASSERT_NE(plain.find("push_queue_due"), std::string::npos) << "the setup must mislead the plain form:\n" << plain;
  const auto ours = plan(storage::detail::still_queued("state"));
  EXPECT_EQ(ours.find("push_queue_due"), std::string::npos) << ours;
  EXPECT_NE(ours.find("push_queue_pkey"), std::string::npos) << ours;
  ASSERT_TRUE(c.exec("COMMIT"));
}

TEST_F(storage_push, a_claim_holds_until_its_lease_ends_and_only_its_holder_finishes) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  device(b);
  const id_t g = group(a, {b});
  auto m = send(a, g, "x");
  ASSERT_EQ(enqueue(m), 1);
  auto first = claim("n1", -1);  // a lease already over: as if n1 died mid-send
  ASSERT_EQ(first.size(), 1u);
  auto second = claim("n2");
  ASSERT_EQ(second.size(), 1u) << "an expired claim is taken over";
  EXPECT_EQ(second[0].attempts, 2);
  EXPECT_TRUE(claim("n3").empty()) << "n2's lease holds";
  finish("n1", {{first[0].id, "sent", "late", std::nullopt, "", first[0].attempts}});
  EXPECT_EQ(rows(b, g, m.seq).at(0).state, "queued") << "n1 no longer holds the claim";
  finish("n2", {{second[0].id, "sent", "200", std::nullopt, "", second[0].attempts}});
  auto r = rows(b, g, m.seq).at(0);
  EXPECT_EQ(r.state, "sent");
  EXPECT_EQ(r.detail, "200");
  EXPECT_TRUE(claim("n3").empty());
}

TEST_F(storage_push, a_retry_is_due_again_later) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  device(b);
  const id_t g = group(a, {b});
  auto m = send(a, g, "x");
  ASSERT_EQ(enqueue(m), 1);
  auto j = claim("n1");
  ASSERT_EQ(j.size(), 1u);
  finish("n1", {{j[0].id, "queued", "429", now_ms() + 3600000, "", j[0].attempts}});
  EXPECT_TRUE(claim("n1").empty()) << "not due yet";
  auto q = run(push().queued());
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, 1);
}

TEST_F(storage_push, two_nodes_racing_claim_each_row_once) {
  const id_t a = user("ana");
  device(a);
  std::vector<id_t> others;
  for (int i = 0; i < 30; ++i) {
    const id_t u = user("u" + std::to_string(i));
    device(u);
    others.push_back(u);
  }
  const id_t g = group(a, others);
  std::int64_t total = 0;
  for (int i = 0; i < 5; ++i) total += enqueue(send(a, g, "m" + std::to_string(i)));
  ASSERT_EQ(total, 150);
  auto other = be_->open();  // a second node over the same database
  using jobs = std::vector<storage::push_job>;
  auto race = [](storage::store& s, std::string holder) -> asio::awaitable<result<jobs>> {
    jobs all;
    for (;;) {
      auto r = co_await s.push().claim(holder, 7, 60000);
      if (!r) co_return r.error();
      if (r->empty()) co_return all;
      all.insert(all.end(), r->begin(), r->end());
    }
  };
  auto f1 = asio::co_spawn(ioc_, race(*st_, "n1"), asio::use_future);
  auto f2 = asio::co_spawn(ioc_, race(*other, "n2"), asio::use_future);
  ioc_.restart();
  ioc_.run();
  auto j1 = f1.get(), j2 = f2.get();
  other->stop();
  ASSERT_TRUE(j1 && j2);
  std::set<std::int64_t> ids;
  for (auto* js : {&*j1, &*j2})
    for (auto& j : *js) EXPECT_TRUE(ids.insert(j.id).second) << "row " << j.id << " claimed twice";
  EXPECT_EQ(ids.size(), 150u);
}

TEST_F(storage_push, a_dead_target_is_removed_only_while_unchanged) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  const id_t b1 = device(b);
  const id_t g = group(a, {b});
  ASSERT_EQ(enqueue(send(a, g, "1")), 1);
  auto j = claim("n1");
  ASSERT_EQ(j.size(), 1u);
  target(b, b1, "re-registered meanwhile");
  finish("n1", {{j[0].id, "dead", "410", std::nullopt, j[0].target->target, j[0].attempts}});
  EXPECT_TRUE(run(push().target(b1))->has_value()) << "the new registration stays";

  ASSERT_EQ(enqueue(send(a, g, "2")), 1);
  j = claim("n1");
  ASSERT_EQ(j.size(), 1u);
  finish("n1", {{j[0].id, "dead", "410", std::nullopt, j[0].target->target, j[0].attempts}});
  EXPECT_FALSE(run(push().target(b1))->has_value()) << "the refused target is gone";
}

TEST_F(storage_push, reading_on_one_device_clears_the_pushes_sent_to_the_others) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  const id_t b1 = device(b), b2 = device(b);
  const id_t g = group(a, {b});
  auto m = send(a, g, "x");
  ASSERT_EQ(enqueue(m), 2);
  send_all("n1");
  ASSERT_TRUE(run(st_->mark_read(b, b2, g, m.seq)));
  auto rs = rows(b, g, m.seq);
  int clears = 0;
  for (auto& r : rs) {
    if (r.kind == "clear") {
      ++clears;
      EXPECT_EQ(r.device, b1) << "no clear for the device that read";
      EXPECT_EQ(r.state, "queued");
    } else {
      EXPECT_EQ(r.state, "cleared");
    }
  }
  EXPECT_EQ(clears, 1);
  auto j = claim("n1");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].kind, "clear");
  EXPECT_EQ(j[0].seq, m.seq);
  EXPECT_EQ(j[0].read_seq, m.seq);
  EXPECT_EQ(j[0].unread, 0);
}

// Outcomes recorded again (the worker retries a finish whose commit it could not confirm) change
// nothing once the rows ended: a push cleared by a read meanwhile stays cleared.
TEST_F(storage_push, outcomes_recorded_twice_change_nothing_the_second_time) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  device(b);
  const id_t b2 = device(b);
  const id_t g = group(a, {b});
  auto m = send(a, g, "x");
  ASSERT_EQ(enqueue(m), 2);
  const auto sent = send_all("n1");
  ASSERT_TRUE(run(st_->mark_read(b, b2, g, m.seq)));
  finish("n1", sent);
  for (const auto& r : rows(b, g, m.seq)) {
    if (r.kind == "message") {
      EXPECT_EQ(r.state, "cleared") << "device " << r.device;
    }
  }
}

TEST_F(storage_push, a_read_while_a_push_is_being_sent_clears_it_after_it_is_sent) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  const id_t b1 = device(b), b2 = device(b);
  const id_t g = group(a, {b});
  auto m = send(a, g, "x");
  ASSERT_EQ(enqueue(m), 2);
  auto inflight = claim("n1");  // both being sent
  ASSERT_EQ(inflight.size(), 2u);
  ASSERT_TRUE(run(st_->mark_read(b, b2, g, m.seq)));
  EXPECT_TRUE(claim("n2").empty()) << "the clear waits for the message push it follows";
  std::vector<push_outcome> sent;
  for (auto& j : inflight) sent.push_back({j.id, "sent", "200", std::nullopt, "", j.attempts});
  finish("n1", sent);
  // Both are clears now: b1's from the read, b2's (the reader's own, harmless) from finish, which
  // sees a push sent for a message already read.
  auto j = claim("n2");
  ASSERT_EQ(j.size(), 2u);
  std::set<id_t> to;
  for (auto& x : j) {
    EXPECT_EQ(x.kind, "clear");
    to.insert(x.device);
  }
  EXPECT_EQ(to, (std::set<id_t>{b1, b2}));
}

TEST_F(storage_push, a_result_from_an_older_claim_changes_nothing) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  device(b);
  const id_t g = group(a, {b});
  auto m = send(a, g, "x");
  ASSERT_EQ(enqueue(m), 1);
  auto first = claim("n1", -1);
  auto again = claim("n1");  // the same node, after its lease ran out
  ASSERT_EQ(again.size(), 1u);
  finish("n1", {{first[0].id, "rejected", "late answer", std::nullopt, "", first[0].attempts}});
  EXPECT_EQ(rows(b, g, m.seq).at(0).state, "queued") << "the second attempt is still in flight";
  finish("n1", {{again[0].id, "sent", "200", std::nullopt, "", again[0].attempts}});
  EXPECT_EQ(rows(b, g, m.seq).at(0).state, "sent");
}

TEST_F(storage_push, a_revoked_device_cannot_register) {
  const id_t b = user("ben");
  const id_t b1 = device(b, false);
  ASSERT_TRUE(run(st_->revoke_device(b, b1)));
  auto r = run(push().set_target({b1, b, "fcm", "late"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unauthenticated);
  EXPECT_FALSE(run(push().target(b1))->has_value());
}

TEST_F(storage_push, a_signed_out_device_loses_its_target) {
  const id_t b = user("ben");
  const id_t b1 = device(b);
  ASSERT_TRUE(run(push().target(b1))->has_value());
  ASSERT_TRUE(run(st_->revoke_device(b, b1)));
  EXPECT_FALSE(run(push().target(b1))->has_value());
  EXPECT_FALSE(*run(push().remove_target(b1))) << "nothing left to remove";
}

TEST_F(storage_push, facts_explain_the_decision) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  const id_t b1 = device(b);
  const id_t g = group(a, {b});
  ASSERT_TRUE(run(st_->set_notify(b, g, {"mentions", std::nullopt})));
  auto m = send(a, g, "hi @ben", std::nullopt, {"ben"});
  auto f = run(push().facts(b, g, m.seq));
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->exists);
  EXPECT_TRUE(f->member_at_seq);
  EXPECT_FALSE(f->sender);
  EXPECT_EQ(f->level, "mentions");
  EXPECT_TRUE(f->mentioned);
  ASSERT_EQ(f->targets.size(), 1u);
  EXPECT_EQ(f->targets[0].device, b1);
  auto none = run(push().facts(b, g, 999));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->exists);
}

// A node claims only rows it can send: its providers' targets, and devices without a target
// (skipped). Rows for a provider no node sends to fail once past the retention.
TEST_F(storage_push, a_node_claims_only_its_providers_rows_and_the_others_expire) {
  const id_t a = user("ana"), b = user("ben"), c = user("cy"), d = user("dee");
  device(a);
  device(b);  // fcm
  const id_t c1 = device(c, false);
  ASSERT_TRUE(run(push().set_target({c1, c, "apns", "apns-target"})));
  const id_t d1 = device(d);
  const id_t g = group(a, {b, c, d});
  const auto m = send(a, g, "hi");
  ASSERT_EQ(enqueue(m), 3);
  ASSERT_TRUE(run(push().remove_target(d1)));  // dee's device signed out of push meanwhile
  auto r = run(push().claim("apns-node", 1000, 60000, {"apns"}));
  ASSERT_TRUE(r) << r.error().message;
  std::set<id_t> got;
  for (const auto& j : *r) got.insert(j.device);
  EXPECT_EQ(got, (std::set<id_t>{c1, d1})) << "its own provider's row, and the one without a target";
  for (const auto& j : *r) finish("apns-node", {{j.id, "sent", "", std::nullopt, "", j.attempts}});
  EXPECT_TRUE(run(push().claim("apns-node", 1000, 60000, {"apns"}))->empty()) << "not ben's fcm row";

  ASSERT_TRUE(run(push().prune(now_ms() - 3600000, 100)));
  EXPECT_EQ(rows(b, g, m.seq).at(0).state, "queued") << "within the retention it waits for an fcm node";
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // now is past the row's due time
  ASSERT_TRUE(run(push().prune(now_ms(), 100)));
  const auto after = rows(b, g, m.seq);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].state, "failed");
  EXPECT_NE(after[0].detail.find("no node sends"), std::string::npos) << after[0].detail;
  auto bad = run(push().claim("n1", 10, 1000, {}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid_field);
}

TEST_F(storage_push, finished_rows_are_pruned_queued_ones_kept) {
  const id_t a = user("ana"), b = user("ben");
  device(a);
  device(b);
  const id_t g = group(a, {b});
  ASSERT_EQ(enqueue(send(a, g, "1")), 1);
  ASSERT_EQ(enqueue(send(a, g, "2"), 3600000), 1);
  auto j = claim("n1");
  ASSERT_EQ(j.size(), 1u);
  finish("n1", {{j[0].id, "sent", "", std::nullopt, "", j[0].attempts}});
  auto n = run(push().prune(now_ms() + 1, 100));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(*run(push().queued()), 1);
  auto bad = run(push().claim("n1", 0, 1000));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid_field);
}

}  // namespace
}  // namespace confab::testing
