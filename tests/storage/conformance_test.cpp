// The storage conformance suite: every case runs against each backend (one binary per backend,
// linked with sqlite_fixture.cpp or pg_fixture.cpp).
#include "backend_fixture.hpp"
#include "storage/migrate.hpp"
#include "storage/store_detail.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace confab::testing {
namespace {
namespace asio = boost::asio;

class storage_conformance : public store_test {
 protected:
  id_t device(id_t u, const std::string& token_hash) {
    auto r = run(st_->create_device(u, "test", token_hash));
    EXPECT_TRUE(r);
    return r ? r->id : 0;
  }
  send_ack must_send(id_t u, id_t dev, id_t conv, const std::string& cid, const std::string& text = "hi") {
    auto r = run(st_->send({u, dev, conv, cid, text, "text/plain", std::nullopt}));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : send_ack{};
  }
  result<send_ack> try_send(id_t u, id_t dev, id_t conv, const std::string& cid) {
    return run(st_->send({u, dev, conv, cid, "x", "text/plain", std::nullopt}));
  }
  std::vector<stream_item> stream(id_t u, std::int64_t after = 0) {
    auto r = run(st_->read_stream(u, after, 1000));
    EXPECT_TRUE(r);
    return r ? r->items : std::vector<stream_item>{};
  }
};

TEST_F(storage_conformance, username_is_unique) {
  user("alice");
  auto again = run(st_->create_user("alice", "h2"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, errc::conflict);
  auto found = run(st_->find_user("alice"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->password_hash, "hash");
  EXPECT_EQ(run(st_->find_user("nobody")).error().code, errc::not_found);
}

TEST_F(storage_conformance, find_users_matches_a_prefix_ignoring_ascii_case_in_name_order) {
  const id_t ana = user("ana");
  const id_t anabel = user("anabel");
  user("an.x");
  user("Anne");
  user("andre");
  user("bob");
  user("an");
  auto names = [&](const std::string& prefix, id_t except, int limit) {
    std::vector<std::string> out;
    auto r = run(st_->find_users(prefix, except, limit));
    EXPECT_TRUE(r);
    if (r)
      for (auto& u : *r) out.push_back(u.username);
    return out;
  };
  // ASCII case is ignored; names are ordered by their lower-case form.
  EXPECT_EQ(names("an", 0, 10), (std::vector<std::string>{"an", "an.x", "ana", "anabel", "andre", "Anne"}));
  EXPECT_EQ(names("ana", ana, 10), (std::vector<std::string>{"anabel"}));  // the caller is left out
  EXPECT_EQ(names("an", 0, 2), (std::vector<std::string>{"an", "an.x"}));
  EXPECT_EQ(names("ANN", 0, 10), (std::vector<std::string>{"Anne"}));
  EXPECT_EQ(names("A", 0, 10), (std::vector<std::string>{"an", "an.x", "ana", "anabel", "andre", "Anne"}));
  EXPECT_TRUE(names("anabelle", 0, 10).empty());
  EXPECT_TRUE(names("z", 0, 10).empty());
  auto one = run(st_->find_users("anab", 0, 10));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, anabel);
}

TEST_F(storage_conformance, revoked_token_stops_authenticating) {
  id_t a = user("alice");
  id_t d = device(a, "tokhash1");
  auto who = run(st_->authenticate("tokhash1"));
  ASSERT_TRUE(who);
  EXPECT_EQ(who->user_id, a);
  EXPECT_EQ(who->device_id, d);
  EXPECT_EQ(who->username, "alice");
  ASSERT_TRUE(run(st_->revoke_device(a, d)));
  EXPECT_EQ(run(st_->authenticate("tokhash1")).error().code, errc::unauthenticated);
  EXPECT_EQ(run(st_->authenticate("unknown")).error().code, errc::unauthenticated);
  // Another user's device is not yours to revoke.
  id_t b = user("bob");
  id_t db = device(b, "tokhash2");
  EXPECT_EQ(run(st_->revoke_device(a, db)).error().code, errc::not_found);
  auto list = run(st_->list_devices(a));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].revoked_ms.has_value());
}

TEST_F(storage_conformance, direct_conversation_is_one_per_pair) {
  id_t a = user("alice"), b = user("bob");
  auto c1 = run(st_->create_direct(a, 1, b));
  ASSERT_TRUE(c1);
  EXPECT_TRUE(c1->is_new);
  auto c2 = run(st_->create_direct(b, 2, a));
  ASSERT_TRUE(c2);
  EXPECT_FALSE(c2->is_new);
  EXPECT_EQ(c1->conv, c2->conv);
  EXPECT_EQ(run(st_->create_direct(a, 1, a)).error().code, errc::invalid_field);
  EXPECT_EQ(run(st_->create_direct(a, 1, 9999)).error().code, errc::not_found);
}

TEST_F(storage_conformance, sequence_numbers_start_at_one_and_rise_by_one) {
  id_t a = user("alice"), b = user("bob");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  for (int i = 0; i < 10; ++i) {
    auto ack = must_send(a, 1, conv, "c" + std::to_string(i));
    EXPECT_EQ(ack.seq, i + 2);  // seq 1 is the "created" event
    EXPECT_FALSE(ack.duplicate);
  }
  auto h = run(st_->history(b, conv, std::nullopt, std::nullopt, 100));
  ASSERT_TRUE(h);
  ASSERT_EQ(h->events.size(), 11u);
  for (std::size_t i = 0; i < h->events.size(); ++i) EXPECT_EQ(h->events[i].seq, static_cast<std::int64_t>(i + 1));
  EXPECT_EQ(h->events[0].kind, event_kind::created);
  EXPECT_EQ(h->events[1].text, "hi");
}

TEST_F(storage_conformance, retry_with_same_client_id_returns_original_ack) {
  id_t a = user("alice"), b = user("bob");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  auto first = must_send(a, 1, conv, "same");
  auto again = must_send(a, 1, conv, "same");
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.seq, first.seq);
  EXPECT_EQ(again.ts_ms, first.ts_ms);
  // Another device may use the same client id without clashing.
  auto other = must_send(a, 2, conv, "same");
  EXPECT_FALSE(other.duplicate);
  EXPECT_EQ(other.seq, first.seq + 1);
  auto h = run(st_->history(a, conv, std::nullopt, std::nullopt, 100));
  EXPECT_EQ(h->events.size(), 3u);
  // A client id names one message: reusing it in another conversation is a conflict, not an ack
  // of a message the caller did not mean.
  id_t c = user("carol");
  id_t other_conv = run(st_->create_direct(a, 1, c))->conv;
  auto reused = run(st_->send({a, 1, other_conv, "same", "x", "text/plain", std::nullopt}));
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, errc::conflict);
}

TEST_F(storage_conformance, concurrent_senders_get_gapless_sequences) {
  id_t a = user("alice"), b = user("bob"), c = user("carol");
  id_t g = *run(st_->create_group(a, 1, "g", {b, c}));
  id_t d = run(st_->create_direct(b, 2, c))->conv;
  // 3 threads each run many coroutines that send concurrently, to both conversations.
  constexpr int per_thread = 60;
  std::vector<std::thread> ts;
  std::mutex mu;
  std::map<id_t, std::vector<std::int64_t>> seqs;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&, t] {
      asio::io_context ioc;
      std::vector<std::future<result<send_ack>>> fs;
      for (int i = 0; i < per_thread; ++i) {
        id_t conv = i % 2 ? g : d;
        id_t sender = conv == g ? a : b;
        fs.push_back(asio::co_spawn(
            ioc, st_->send({sender, 10 + t, conv, std::to_string(t) + "-" + std::to_string(i), "x", "text/plain", std::nullopt}),
            asio::use_future));
      }
      ioc.run();
      for (auto& f : fs) {
        auto r = f.get();
        ASSERT_TRUE(r);
        std::lock_guard l(mu);
        seqs[r->conv].push_back(r->seq);
      }
    });
  for (auto& t : ts) t.join();
  for (auto& [conv, v] : seqs) {
    std::sort(v.begin(), v.end());
    ASSERT_EQ(v.size(), 90u);
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], static_cast<std::int64_t>(i + 2)) << "conv " << conv;
  }
  // Every member's stream is gapless too, and holds each event once.
  for (id_t u : {a, b, c}) {
    auto items = stream(u);
    for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i].pos, static_cast<std::int64_t>(i + 1));
    std::set<std::pair<id_t, std::int64_t>> uniq;
    for (auto& it : items) EXPECT_TRUE(uniq.insert({it.ev.conv, it.ev.seq}).second);
  }
}

TEST_F(storage_conformance, membership_is_checked_on_send_and_read) {
  id_t a = user("alice"), b = user("bob"), e = user("eve");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  EXPECT_EQ(try_send(e, 3, conv, "x").error().code, errc::forbidden);
  EXPECT_EQ(try_send(a, 1, 424242, "y").error().code, errc::not_found);
  EXPECT_EQ(run(st_->history(e, conv, std::nullopt, std::nullopt, 10)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->mark_read(e, 0, conv, 1)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->members(e, conv)).error().code, errc::forbidden);
  auto bad_reply = run(st_->send({a, 1, conv, "r", "x", "text/plain", std::int64_t{99}}));
  EXPECT_EQ(bad_reply.error().code, errc::invalid_field);
  auto ok_reply = run(st_->send({a, 1, conv, "r2", "x", "text/plain", std::int64_t{1}}));
  ASSERT_TRUE(ok_reply);
  auto h = run(st_->history(a, conv, std::nullopt, std::nullopt, 10));
  EXPECT_EQ(h->events.back().reply_to, std::optional<std::int64_t>(1));
}

TEST_F(storage_conformance, stream_catch_up_returns_exactly_what_was_missed) {
  id_t a = user("alice"), b = user("bob"), c = user("carol");
  id_t d1 = run(st_->create_direct(a, 1, b))->conv;
  id_t d2 = run(st_->create_direct(c, 3, b))->conv;
  for (int i = 0; i < 5; ++i) must_send(a, 1, d1, "a" + std::to_string(i));
  auto head = run(st_->stream_head(b));
  ASSERT_TRUE(head);
  EXPECT_EQ(*head, 7);  // 2 created + 5 messages
  for (int i = 0; i < 4; ++i) must_send(c, 3, d2, "c" + std::to_string(i));
  auto missed = stream(b, *head);
  ASSERT_EQ(missed.size(), 4u);
  for (std::size_t i = 0; i < missed.size(); ++i) {
    EXPECT_EQ(missed[i].pos, *head + 1 + static_cast<std::int64_t>(i));
    EXPECT_EQ(missed[i].ev.conv, d2);
    EXPECT_EQ(missed[i].ev.client_id, "c" + std::to_string(i));
  }
  EXPECT_TRUE(stream(b, *head + 4).empty());
  // Pages: limit is honoured and the next page continues where the last ended.
  auto p1 = run(st_->read_stream(b, 0, 3));
  ASSERT_EQ(p1->items.size(), 3u);
  EXPECT_EQ(p1->head, 11);
  auto p2 = run(st_->read_stream(b, p1->items.back().pos, 3));
  EXPECT_EQ(p2->items.front().pos, 4);
}

TEST_F(storage_conformance, sink_sees_commits_in_order_with_recipient_positions) {
  id_t a = user("alice"), b = user("bob");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  must_send(a, 1, conv, "m1");
  must_send(b, 2, conv, "m2");
  must_send(a, 1, conv, "m1");  // duplicate: nothing new is published
  std::lock_guard l(sink_.mu);
  ASSERT_EQ(sink_.seen.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink_.seen[i].first.seq, static_cast<std::int64_t>(i + 1));
    ASSERT_EQ(sink_.seen[i].second.size(), 2u);
    for (auto& r : sink_.seen[i].second) EXPECT_EQ(r.pos, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(sink_.seen[2].first.text, "hi");
  EXPECT_EQ(sink_.seen[2].first.client_id, "m2");
}

TEST_F(storage_conformance, history_pages_backward_and_forward) {
  id_t a = user("alice"), b = user("bob");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  for (int i = 0; i < 30; ++i) must_send(a, 1, conv, "p" + std::to_string(i));  // seqs 2..31
  auto latest = run(st_->history(b, conv, std::nullopt, std::nullopt, 10));
  ASSERT_EQ(latest->events.size(), 10u);
  EXPECT_EQ(latest->events.front().seq, 22);
  EXPECT_EQ(latest->events.back().seq, 31);
  EXPECT_TRUE(latest->has_more);
  auto older = run(st_->history(b, conv, std::int64_t{22}, std::nullopt, 10));
  EXPECT_EQ(older->events.front().seq, 12);
  EXPECT_EQ(older->events.back().seq, 21);
  auto oldest = run(st_->history(b, conv, std::int64_t{5}, std::nullopt, 10));
  ASSERT_EQ(oldest->events.size(), 4u);
  EXPECT_FALSE(oldest->has_more);
  auto fwd = run(st_->history(b, conv, std::nullopt, std::int64_t{25}, 10));
  ASSERT_EQ(fwd->events.size(), 6u);
  EXPECT_EQ(fwd->events.front().seq, 26);
  EXPECT_FALSE(fwd->has_more);
}

TEST_F(storage_conformance, removed_member_gets_the_removal_then_nothing) {
  id_t a = user("alice"), b = user("bob"), c = user("carol");
  id_t g = *run(st_->create_group(a, 1, "team", {b, c}));
  must_send(a, 1, g, "before");
  auto rm = run(st_->remove_member(a, 1, g, c));
  ASSERT_TRUE(rm);
  must_send(b, 2, g, "after");
  auto items = stream(c);
  ASSERT_EQ(items.size(), 3u);  // created, "before", removal
  EXPECT_EQ(items.back().ev.kind, event_kind::member_removed);
  EXPECT_EQ(items.back().ev.seq, *rm);
  auto h = run(st_->history(c, g, std::nullopt, std::nullopt, 100));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->events.back().seq, *rm);
  EXPECT_EQ(try_send(c, 3, g, "no").error().code, errc::forbidden);
  // The others see the message after the removal.
  EXPECT_EQ(stream(b).back().ev.client_id, "after");
  // Re-adding brings them back from the join on.
  ASSERT_TRUE(run(st_->add_members(a, 1, g, {c})));
  must_send(b, 2, g, "again");
  EXPECT_EQ(stream(c).back().ev.client_id, "again");
}

TEST_F(storage_conformance, roles_decide_who_may_change_membership) {
  id_t o = user("owner"), m = user("member"), x = user("extra"), y = user("late");
  id_t g = *run(st_->create_group(o, 1, "g", {m, x}));
  EXPECT_EQ(run(st_->add_members(m, 2, g, {y})).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->remove_member(m, 2, g, x)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->set_role(m, 2, g, x, conv_role::admin)).error().code, errc::forbidden);
  ASSERT_TRUE(run(st_->set_role(o, 1, g, m, conv_role::admin)));
  ASSERT_TRUE(run(st_->add_members(m, 2, g, {y})));  // admins add
  EXPECT_EQ(run(st_->add_members(m, 2, g, {y})).error().code, errc::conflict);
  EXPECT_EQ(run(st_->remove_member(m, 2, g, o)).error().code, errc::forbidden);  // not the owner
  ASSERT_TRUE(run(st_->remove_member(m, 2, g, y)));                              // but members
  EXPECT_EQ(run(st_->set_role(o, 1, g, m, conv_role::none)).error().code, errc::invalid_field);
  // The owner may not leave while others remain, but may hand over ownership.
  EXPECT_EQ(run(st_->remove_member(o, 1, g, o)).error().code, errc::forbidden);
  ASSERT_TRUE(run(st_->set_role(o, 1, g, m, conv_role::owner)));
  auto ms = run(st_->members(o, g));
  ASSERT_TRUE(ms);
  std::map<id_t, conv_role> roles;
  for (auto& r : *ms) roles[r.user_id] = r.role;
  EXPECT_EQ(roles[m], conv_role::owner);
  EXPECT_EQ(roles[o], conv_role::admin);
  ASSERT_TRUE(run(st_->remove_member(o, 1, g, o)));  // now o may leave
  EXPECT_EQ(run(st_->members(o, g)).error().code, errc::forbidden);
  // Direct conversations have fixed membership.
  id_t d = run(st_->create_direct(o, 1, m))->conv;
  EXPECT_EQ(run(st_->add_members(o, 1, d, {x})).error().code, errc::forbidden);
}

TEST_F(storage_conformance, membership_changes_check_every_user_and_apply_in_bulk) {
  id_t o = user("owner");
  std::vector<id_t> many;
  for (int i = 0; i < 300; ++i) many.push_back(user("m" + std::to_string(i)));
  // One unknown user spoils the whole request, and names the culprit.
  auto bad = many;
  bad.push_back(999999);
  auto r = run(st_->create_group(o, 1, "big", bad));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
  EXPECT_NE(r.error().message.find("999999"), std::string::npos);
  EXPECT_TRUE(run(st_->conversations(o, std::nullopt, 10))->empty());
  // 300 members (and duplicates, and the creator listed again) in one group.
  auto with_dups = many;
  with_dups.push_back(many[0]);
  with_dups.push_back(o);
  id_t g = *run(st_->create_group(o, 1, "big", with_dups));
  auto ms = run(st_->members(o, g));
  ASSERT_TRUE(ms);
  EXPECT_EQ(ms->size(), 301u);
  for (id_t u : {many.front(), many[150], many.back()}) {
    auto items = stream(u);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].ev.kind, event_kind::created);
  }
  // add_members: already-active members are skipped, the rest join at the event's seq.
  id_t late1 = user("late1"), late2 = user("late2");
  auto seq = run(st_->add_members(o, 1, g, {many[0], late1, late2}));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 2);
  auto after = run(st_->members(o, g));
  EXPECT_EQ(after->size(), 303u);
  for (auto& m : *after) {
    if (m.user_id == late1 || m.user_id == late2) {
      EXPECT_EQ(m.joined_seq, 2);
    }
  }
  EXPECT_EQ(stream(late1).back().ev.kind, event_kind::members_added);
  EXPECT_EQ(run(st_->add_members(o, 1, g, {late1, 888888})).error().code, errc::not_found);
  EXPECT_EQ(run(st_->add_members(o, 1, g, {late1, late2})).error().code, errc::conflict);
}

TEST_F(storage_conformance, read_pointer_is_monotonic_and_drives_unread) {
  id_t a = user("alice"), b = user("bob");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  for (int i = 0; i < 5; ++i) must_send(a, 1, conv, "u" + std::to_string(i));  // seqs 2..6
  auto s = run(st_->conversation(b, conv));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->unread, 5);
  EXPECT_EQ(s->last_message->seq, 6);
  EXPECT_EQ(run(st_->mark_read(b, 0, conv, 4))->read_seq, 4);
  EXPECT_EQ(run(st_->mark_read(b, 0, conv, 2))->read_seq, 4);    // never backwards
  EXPECT_EQ(run(st_->mark_read(b, 0, conv, 100))->read_seq, 6);  // clamped to the last event
  EXPECT_EQ(run(st_->conversation(b, conv))->unread, 0);
  EXPECT_EQ(run(st_->conversation(a, conv))->unread, 0);  // own messages are read
}

TEST_F(storage_conformance, delivery_receipts_are_monotonic_clamped_and_raised_by_reads) {
  id_t a = user("alice"), b = user("bob"), c = user("carol");
  id_t g = *run(st_->create_group(a, 1, "g", {b, c}));
  for (int i = 0; i < 4; ++i) must_send(a, 1, g, "m" + std::to_string(i));  // seqs 2..5
  auto d = run(st_->mark_delivered(b, 0, g, 3));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->delivered_seq, 3);
  EXPECT_EQ(d->read_seq, 0);
  EXPECT_EQ(d->username, "bob");
  EXPECT_EQ(run(st_->mark_delivered(b, 0, g, 2))->delivered_seq, 3);   // never backwards
  EXPECT_EQ(run(st_->mark_delivered(b, 0, g, 99))->delivered_seq, 5);  // clamped to the last event
  auto r = run(st_->mark_read(c, 0, g, 4));
  EXPECT_EQ(r->read_seq, 4);
  EXPECT_EQ(r->delivered_seq, 4);  // reading implies delivery
  auto all = run(st_->receipts(a, g));
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].read_seq, 5);       // a sender has read its own messages ...
  EXPECT_EQ((*all)[0].delivered_seq, 5);  // ... and so received them
  EXPECT_EQ((*all)[1].user_id, b);
  EXPECT_EQ((*all)[1].delivered_seq, 5);
  EXPECT_EQ((*all)[2].read_seq, 4);
  id_t e = user("eve");
  EXPECT_EQ(run(st_->receipts(e, g)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->mark_delivered(e, 0, g, 1)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->mark_delivered(b, 0, 777777, 1)).error().code, errc::not_found);
  // A member who left no longer appears.
  ASSERT_TRUE(run(st_->remove_member(c, 1, g, c)));
  EXPECT_EQ(run(st_->receipts(a, g))->size(), 2u);
}

TEST_F(storage_conformance, memberships_shared_users_and_last_seen) {
  id_t a = user("alice"), b = user("bob"), c = user("carol"), d = user("dave");
  id_t ab = run(st_->create_direct(a, 1, b))->conv;
  id_t g = *run(st_->create_group(c, 1, "g", {a, d}));
  EXPECT_EQ(*run(st_->conversation_ids(a)), (std::vector<id_t>{ab, g}));
  EXPECT_TRUE(*run(st_->is_member(d, g)));
  EXPECT_FALSE(*run(st_->is_member(b, g)));
  EXPECT_EQ(*run(st_->shared_users(b, {a, c, d, b})), (std::vector<id_t>{a, b}));
  EXPECT_EQ(*run(st_->shared_users(a, {b, c, d})), (std::vector<id_t>{b, c, d}));
  ASSERT_TRUE(run(st_->remove_member(c, 1, g, d)));
  EXPECT_EQ(*run(st_->conversation_ids(d)), std::vector<id_t>{});
  EXPECT_EQ(*run(st_->shared_users(a, {d})), std::vector<id_t>{});
  auto none = run(st_->last_seen({a, b}));
  ASSERT_TRUE(none);
  EXPECT_FALSE((*none)[0]);
  ASSERT_TRUE(run(st_->set_last_seen(a, 5000)));
  ASSERT_TRUE(run(st_->set_last_seen(a, 4000)));  // an older report does not move it back
  auto seen = run(st_->last_seen({b, a, 999999}));
  ASSERT_TRUE(seen);
  EXPECT_FALSE((*seen)[0]);
  EXPECT_EQ((*seen)[1], 5000);
  EXPECT_FALSE((*seen)[2]);
}

TEST_F(storage_conformance, conversation_list_is_ordered_by_activity_and_paginated) {
  id_t a = user("alice");
  std::vector<id_t> convs;
  for (int i = 0; i < 5; ++i) {
    id_t other = user("peer" + std::to_string(i));
    convs.push_back(run(st_->create_direct(a, 1, other))->conv);
  }
  // Touch them in a known order; the ms clock may tie, so sleep a little between.
  for (id_t c : {convs[2], convs[0], convs[4]}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    must_send(a, 1, c, "t" + std::to_string(c));
  }
  auto page1 = run(st_->conversations(a, std::nullopt, 2));
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ((*page1)[0].id, convs[4]);
  EXPECT_EQ((*page1)[1].id, convs[0]);
  auto page2 = run(st_->conversations(a, storage::conv_cursor{page1->back().last_ms, page1->back().id}, 2));
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ((*page2)[0].id, convs[2]);
  auto page3 = run(st_->conversations(a, storage::conv_cursor{page2->back().last_ms, page2->back().id}, 2));
  ASSERT_EQ(page3->size(), 1u);
  std::set<id_t> all;
  for (auto* p : {&*page1, &*page2, &*page3})
    for (auto& s : *p) all.insert(s.id);
  EXPECT_EQ(all.size(), 5u);
}

TEST_F(storage_conformance, acked_writes_survive_reopening) {
  id_t a = user("alice"), b = user("bob");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  auto ack = must_send(a, 1, conv, "durable", "still here");
  st_->stop();
  st_ = be_->open();
  auto h = run(st_->history(b, conv, std::nullopt, std::nullopt, 10));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->events.back().seq, ack.seq);
  EXPECT_EQ(h->events.back().text, "still here");
  auto retry = must_send(a, 1, conv, "durable");
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.seq, ack.seq);
}

TEST_F(storage_conformance, migrations_are_idempotent_and_refuse_a_newer_schema) {
  st_->stop();
  auto conn = be_->factory()();
  ASSERT_TRUE(conn);
  EXPECT_TRUE(storage::migrate(**conn, be_->migrations()));  // already at the latest: no-op
  auto v = storage::query(**conn, "SELECT version FROM schema_version");
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].i64(0), static_cast<std::int64_t>(be_->migrations().size()));
  ASSERT_TRUE(storage::query(**conn, "UPDATE schema_version SET version = 999"));
  auto r = storage::migrate(**conn, be_->migrations());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("newer"), std::string::npos);
  st_.reset();
}

// PostgreSQL's v4 moved stream positions into head rows (user_heads); a database migrated from v3
// must continue every user's stream after its last position, or the next append would collide
// with the stream rows written before the upgrade.
// A summary's counts are as of its last_seq. The summary's statements are separate snapshots, so
// a message can be committed after last_seq was read; that is simulated here by moving last_seq
// back. Without the bound, the summary counted the newer message and the client, which applies
// the events above last_seq on top, counted it twice (the browser test's badge showed 4 for 3).
TEST_F(storage_conformance, a_summary_counts_only_up_to_its_last_seq) {
  id_t a = user("alice"), b = user("bob");
  id_t da = device(a, "ta");
  id_t conv = run(st_->create_direct(a, da, b))->conv;
  must_send(a, da, conv, "c1");
  must_send(a, da, conv, "c2");
  const auto third = must_send(a, da, conv, "c3").seq;
  st_->stop();
  {
    auto conn = be_->factory()();
    ASSERT_TRUE(conn);
    ASSERT_TRUE((*conn)->exec("UPDATE conversations SET last_seq = last_seq - 1"));
  }
  reopen();
  auto s = run(st_->conversation(b, conv));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->last_seq, third - 1);
  EXPECT_EQ(s->unread, 2);
  ASSERT_TRUE(s->last_message);
  EXPECT_EQ(s->last_message->seq, third - 1);
}

TEST_F(storage_conformance, streams_continue_after_the_upgrade_to_head_rows) {
  id_t a = user("alice"), b = user("bob");
  id_t da = device(a, "ta");
  id_t conv = run(st_->create_direct(a, da, b))->conv;
  for (int i = 0; i < 3; ++i) must_send(a, da, conv, "pre" + std::to_string(i));
  st_->stop();
  if (be_->name() == "postgres") {  // back to v3 (before head rows and feeds): positions only in the stream
    auto conn = be_->factory()();
    ASSERT_TRUE(conn);
    // issue 11, threads and mentions: undo v_threads too (migrations after v3 run again)
    ASSERT_TRUE((*conn)->exec("DROP TABLE threads; DROP TABLE thread_users; DROP TABLE mentions; "
                              "ALTER TABLE events DROP COLUMN thread_root, DROP COLUMN thread_flags, DROP COLUMN mentions"));
    ASSERT_TRUE((*conn)->exec("DROP TABLE feed_cursors; DROP TABLE user_heads; UPDATE schema_version SET version = 3"));
    // i11-changes: and the steps after v_feed
    ASSERT_TRUE((*conn)->exec("DROP TABLE reactions; DROP TABLE edit_history; ALTER TABLE events DROP COLUMN edited_ms, DROP COLUMN deleted"));
    // moderation: its tables come after v3 too
    ASSERT_TRUE((*conn)->exec("DROP TABLE conv_settings; DROP TABLE member_moderation; DROP TABLE pins; DROP TABLE notify_levels"));
    ASSERT_TRUE((*conn)->exec("ALTER TABLE conversations DROP COLUMN moderated"));
    // issue 12: and channels (its wildcard index went with thread_flags above)
    ASSERT_TRUE((*conn)->exec("DROP TRIGGER channel_member_count ON members; DROP FUNCTION channel_member_count(); "
                              "DROP TRIGGER channel_members_inserted ON members; DROP FUNCTION channel_members_inserted(); DROP TABLE channels"));
    // issue 13: and the search index
    ASSERT_TRUE((*conn)->exec("DROP TABLE search_docs; DROP TABLE feed_leases"));
    // issue 15: and push
    ASSERT_TRUE((*conn)->exec("DROP TABLE push_targets; DROP TABLE device_receipts; DROP TABLE push_queue"));
  }
  reopen();
  must_send(a, da, conv, "post");
  for (id_t u : {a, b}) {
    auto items = stream(u);
    ASSERT_EQ(items.size(), 5u);
    for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i].pos, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(items.back().ev.client_id, "post");
    EXPECT_EQ(*run(st_->stream_head(u)), 5);
  }
}

// Drivers cache prepared statements up to a bound (512 per connection); statements past it run
// uncached and must still run correctly, every time, without the cache growing.
TEST_F(storage_conformance, statements_beyond_the_prepared_statement_cache_still_run) {
  st_->stop();
  auto conn = be_->factory()();
  ASSERT_TRUE(conn);
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 700; ++i) {
      auto r = storage::query(**conn, "SELECT CAST($1 AS BIGINT) + " + std::to_string(i), {std::int64_t{round}});
      ASSERT_TRUE(r) << i << ": " << r.error().message;
      ASSERT_EQ((*r)[0].i64(0), i + round);
    }
  st_.reset();
}

// Transaction control (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO, COMMIT) runs several times per
// batch; SQLite prepares each such text once and runs it again from its cache. Run again, a text
// must behave as the first time: every statement of it in order, stopping at the first error.
TEST_F(storage_conformance, transaction_control_texts_run_the_same_every_time) {
  st_->stop();
  auto conn = be_->factory()();
  ASSERT_TRUE(conn);
  auto& c = **conn;
  ASSERT_TRUE(c.exec("CREATE TABLE tc_probe (v BIGINT NOT NULL)"));
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(c.exec("BEGIN")) << round;
    ASSERT_TRUE(c.exec("SAVEPOINT confab_job")) << round;
    ASSERT_TRUE(storage::query(c, "INSERT INTO tc_probe (v) VALUES ($1)", {std::int64_t{round}}));
    // Rolled back and closed: the row is gone, and the savepoint with it.
    ASSERT_TRUE(c.exec("ROLLBACK TO SAVEPOINT confab_job; RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job")) << round;
    ASSERT_TRUE(storage::query(c, "INSERT INTO tc_probe (v) VALUES ($1)", {std::int64_t{100 + round}}));
    ASSERT_TRUE(c.exec("RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job")) << round;
    ASSERT_TRUE(c.exec("RELEASE SAVEPOINT confab_job")) << round;
    ASSERT_TRUE(c.exec("COMMIT")) << round;
  }
  auto rows = storage::query(c, "SELECT v FROM tc_probe ORDER BY v");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 3u);
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ((*rows)[static_cast<std::size_t>(i)].i64(0), 100 + i);
  if (be_->name() == "sqlite") {
    // A failing statement stops the text: the SAVEPOINT after it never runs (on PostgreSQL the
    // failed statement aborts the whole transaction instead).
    for (int round = 0; round < 2; ++round) {
      ASSERT_TRUE(c.exec("BEGIN")) << round;
      EXPECT_FALSE(c.exec("RELEASE SAVEPOINT no_such_savepoint; SAVEPOINT after_the_error")) << round;
      EXPECT_FALSE(c.exec("RELEASE SAVEPOINT after_the_error")) << round;
      ASSERT_TRUE(c.exec("ROLLBACK")) << round;
    }
  }
  st_.reset();
}

TEST_F(storage_conformance, failed_write_in_a_batch_leaves_the_others_intact) {
  id_t a = user("alice"), b = user("bob"), e = user("eve");
  id_t conv = run(st_->create_direct(a, 1, b))->conv;
  // Queue good and bad sends together so they share batches.
  std::vector<std::future<result<send_ack>>> fs;
  for (int i = 0; i < 20; ++i) {
    id_t who = i % 3 == 0 ? e : a;  // eve is not a member: forbidden
    fs.push_back(asio::co_spawn(ioc_, st_->send({who, who == e ? 3 : 1, conv, "b" + std::to_string(i), "x", "text/plain", std::nullopt}),
                                asio::use_future));
  }
  ioc_.restart();
  ioc_.run();
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = fs[i].get();
    if (i % 3 == 0) {
      EXPECT_EQ(r.error().code, errc::forbidden);
    } else {
      ASSERT_TRUE(r);
      ++ok;
    }
  }
  auto h = run(st_->history(a, conv, std::nullopt, std::nullopt, 100));
  EXPECT_EQ(static_cast<int>(h->events.size()), ok + 1);
  for (std::size_t i = 0; i < h->events.size(); ++i) EXPECT_EQ(h->events[i].seq, static_cast<std::int64_t>(i + 1));
}

// Sends queued while the writer is busy run as one group (set-based on PostgreSQL): each gets the
// answer it would get alone, in queue order, and the appended events, streams, read pointers and
// published events are exactly those of running them one by one.
TEST_F(storage_conformance, sends_queued_together_get_the_answers_they_would_get_alone) {
  id_t a = user("alice"), b = user("bob"), c = user("carol"), e = user("eve");
  id_t g = *run(st_->create_group(a, 1, "g", {b, c}));
  id_t d = run(st_->create_direct(a, 1, b))->conv;
  must_send(a, 1, g, "before");  // g: created = 1, "before" = 2
  sink_.seen.clear();

  // Awkward texts for the PostgreSQL array literals: quotes, backslashes, braces, commas, NULL; and
  // a NUL character, which fails that send alone (PostgreSQL text cannot hold it).
  const std::string odd = "he said \"hi\" \\ {a,b} NULL, \xc3\xbc \xf0\x9f\x98\x80";
  struct q {
    send_request req;
    errc want;  // errc::ok: appended (or a repeat's ack)
  };
  std::vector<q> qs = {
      {{a, 1, g, "m1", "one", "text/plain", std::nullopt}, errc::ok},
      {{a, 1, d, "m2", odd, "text/plain", std::nullopt}, errc::ok},
      {{e, 4, g, "m3", "x", "text/plain", std::nullopt}, errc::forbidden},          // not a member
      {{a, 1, g, "m1", "one", "text/plain", std::nullopt}, errc::ok},               // a repeat of m1
      {{a, 1, d, "m1", "one", "text/plain", std::nullopt}, errc::conflict},         // m1 in another conv
      {{a, 1, g, "before", "x", "text/plain", std::nullopt}, errc::ok},             // a repeat of a commit
      {{a, 1, g, "m4", "NULL", "text/plain", std::int64_t{2}}, errc::ok},           // reply to "before"
      {{a, 1, g, "m5", "x", "text/plain", std::int64_t{99}}, errc::invalid_field},  // reply to nothing
      {{b, 2, g, "m6", "", "text/plain", std::nullopt}, errc::ok},
      {{b, 2, 999999, "m7", "x", "text/plain", std::nullopt}, errc::not_found},
      {{c, 3, g, "m8", "{}", "text/plain", std::nullopt}, errc::ok},
      {{c, 3, g, "m9", std::string("nul\0inside", 10), "text/plain", std::nullopt}, errc::invalid_field},
  };

  // Hold the writer thread, queue every send, then let it go: they all land in one batch.
  std::promise<void> open_gate, running;
  std::thread holder([&] {
    (void)be_->executor()->run_exclusive([&](storage::connection&) -> storage::db_result<void> {
      running.set_value();
      open_gate.get_future().wait();
      return {};
    });
  });
  running.get_future().wait();
  std::vector<std::future<result<send_ack>>> fs;
  for (auto& x : qs) fs.push_back(asio::co_spawn(ioc_, st_->send(x.req), asio::use_future));
  ioc_.restart();
  ioc_.poll();  // every send is queued now
  open_gate.set_value();
  ioc_.run();
  holder.join();

  std::vector<result<send_ack>> rs;
  for (auto& f : fs) rs.push_back(f.get());
  for (std::size_t i = 0; i < qs.size(); ++i) {
    if (qs[i].want == errc::ok)
      ASSERT_TRUE(rs[i]) << i << ": " << rs[i].error().message;
    else
      ASSERT_FALSE(rs[i]) << i;
    if (!rs[i]) {
      EXPECT_EQ(rs[i].error().code, qs[i].want) << i;
    }
  }
  // New messages take the next seqs of their conversation in queue order.
  EXPECT_EQ(rs[0]->seq, 3);
  EXPECT_EQ(rs[6]->seq, 4);
  EXPECT_EQ(rs[8]->seq, 5);
  EXPECT_EQ(rs[10]->seq, 6);
  EXPECT_EQ(rs[1]->seq, 2);  // d: created = 1
  for (int i : {0, 1, 6, 8, 10}) EXPECT_FALSE(rs[i]->duplicate) << i;
  // Repeats answer with the original ack.
  EXPECT_TRUE(rs[3]->duplicate);
  EXPECT_EQ(rs[3]->seq, rs[0]->seq);
  EXPECT_EQ(rs[3]->ts_ms, rs[0]->ts_ms);
  EXPECT_TRUE(rs[5]->duplicate);
  EXPECT_EQ(rs[5]->seq, 2);

  // What was stored: each message once, with its text, sender and reply.
  auto h = run(st_->history(c, g, std::nullopt, std::nullopt, 100));
  ASSERT_TRUE(h);
  ASSERT_EQ(h->events.size(), 6u);
  const std::vector<std::string> texts = {"hi", "one", "NULL", "", "{}"};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(h->events[i + 1].seq, static_cast<std::int64_t>(i + 2));
    EXPECT_EQ(h->events[i + 1].text, texts[i]);
  }
  EXPECT_EQ(h->events[3].reply_to, std::optional<std::int64_t>(2));
  EXPECT_EQ(h->events[4].sender, b);
  auto hd = run(st_->history(b, d, std::nullopt, std::nullopt, 100));
  ASSERT_EQ(hd->events.size(), 2u);
  EXPECT_EQ(hd->events[1].text, odd);
  EXPECT_EQ(hd->events[1].client_id, "m2");

  // Every member's stream is gapless, holds each event once, and g's events in seq order.
  for (id_t u : {a, b, c}) {
    auto items = stream(u);
    std::int64_t last_g = 0;
    std::set<std::pair<id_t, std::int64_t>> uniq;
    for (std::size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(items[i].pos, static_cast<std::int64_t>(i + 1)) << "user " << u;
      EXPECT_TRUE(uniq.insert({items[i].ev.conv, items[i].ev.seq}).second);
      if (items[i].ev.conv == g) {
        EXPECT_GT(items[i].ev.seq, last_g);
        last_g = items[i].ev.seq;
      }
    }
    EXPECT_EQ(last_g, 6) << "user " << u;
  }
  EXPECT_EQ(stream(e).size(), 0u);

  // Senders have read up to their own last message; others' messages count as unread.
  auto ca = run(st_->conversation(a, g));
  auto cb = run(st_->conversation(b, g));
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(ca->read_seq, 4);
  EXPECT_EQ(ca->unread, 2);  // bob's and carol's
  EXPECT_EQ(cb->read_seq, 5);
  EXPECT_EQ(cb->unread, 1);  // carol's

  // The sink saw each new message once, per conversation in seq order, with every member's
  // stream position.
  std::map<id_t, std::vector<std::int64_t>> published;
  for (auto& [ev, to] : sink_.seen) {
    published[ev.conv].push_back(ev.seq);
    EXPECT_EQ(to.size(), ev.conv == g ? 3u : 2u);
    for (auto& r : to) {
      auto items = stream(r.user_id, r.pos - 1);
      ASSERT_FALSE(items.empty());
      EXPECT_EQ(items[0].ev.conv, ev.conv);
      EXPECT_EQ(items[0].ev.seq, ev.seq);
    }
  }
  EXPECT_EQ(published[g], (std::vector<std::int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(published[d], (std::vector<std::int64_t>{2}));
}

// Reads by a list of keys (a page's events, their reactions and thread summaries) join the keys
// as a table: "(conv_id, seq) IN (VALUES ...)" with more than one pair made SQLite scan the whole
// events table for every search page (90 ms at 500 000 messages, search_bench), and the whole
// reactions and threads tables for every history page.
TEST_F(storage_conformance, reads_by_a_list_of_keys_search_the_primary_key) {
  std::vector<storage::param> ps;
  const std::vector<std::pair<id_t, std::int64_t>> keys{{1, 2}, {3, 4}, {3, 4}, {5, 6}};
  const std::string keyed = storage::detail::pair_table(ps, keys);
  auto raw = be_->factory()();
  ASSERT_TRUE(raw);
  for (const std::string table : {"events", "reactions", "threads"}) {
    const std::string seq = table == "threads" ? "root_seq" : "seq";
    const std::string sql = "SELECT t.conv_id FROM " + keyed + " k JOIN " + table + " t ON t.conv_id = k.column1 AND t." + seq + " = k.column2";
    std::string plan;
    if (be_->name() == "sqlite") {
      auto r = (*raw)->query("EXPLAIN QUERY PLAN " + sql, ps);
      ASSERT_TRUE(r) << r.error().message;
      for (auto& row : *r) plan += row.str(3) + "\n";
      EXPECT_NE(plan.find("SEARCH t USING PRIMARY KEY"), std::string::npos) << table << ":\n" << plan;
      EXPECT_EQ(plan.find("SCAN t"), std::string::npos) << table << ":\n" << plan;
    } else {  // an empty table is scanned whatever the query: ask whether the key can be used at all
      ASSERT_TRUE((*raw)->exec("SET enable_seqscan = off"));
      auto r = (*raw)->query("EXPLAIN " + sql, ps);
      ASSERT_TRUE(r) << r.error().message;
      for (auto& row : *r) plan += row.str(0) + "\n";
      EXPECT_NE(plan.find("Index"), std::string::npos) << table << ":\n" << plan;
    }
    auto rows = (*raw)->query(sql, ps);
    ASSERT_TRUE(rows) << rows.error().message;
  }
}

}  // namespace
}  // namespace confab::testing
