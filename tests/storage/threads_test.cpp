// Threads and mentions in storage (issue 11), on each backend (linked like conformance_test.cpp):
// replies and their roots' summaries, follows and thread read pointers, paging a long thread, the
// bad roots, @username resolution, the wildcard rule, @here, unread mentions and the lists.
#include "backend_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>

namespace confab::testing {
namespace {
namespace asio = boost::asio;

class storage_threads : public store_test {
 protected:
  // A send as chat/messages.cpp builds it (mention tokens given already parsed).
  send_request req(id_t u, id_t conv, const std::string& text, std::optional<std::int64_t> root = std::nullopt) {
    send_request r{u, u, conv, "c" + std::to_string(++cid_), text, "text/plain", std::nullopt};
    r.thread_root = root;
    return r;
  }
  result<send_ack> send(send_request r) { return run(st_->send(r)); }
  std::int64_t must_send(send_request r) {
    auto a = send(std::move(r));
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    return a ? a->seq : 0;
  }
  std::int64_t reply(id_t u, id_t conv, std::int64_t root, const std::string& text = "re") { return must_send(req(u, conv, text, root)); }

  event event_at(id_t viewer, id_t conv, std::int64_t seq) {
    auto h = run(st_->history(viewer, conv, std::nullopt, seq - 1, 1));
    EXPECT_TRUE(h && h->events.size() == 1);
    return h && !h->events.empty() ? h->events[0] : event{};
  }
  std::int64_t last_seq(id_t viewer, id_t conv) {
    auto s = run(st_->conversation(viewer, conv));
    EXPECT_TRUE(s);
    return s ? s->last_seq : -1;
  }

  int cid_ = 0;
};

TEST_F(storage_threads, replies_keep_the_roots_summary_and_follows) {
  const id_t a = user("ana"), b = user("ben"), c = user("cid");
  const id_t g = *run(st_->create_group(a, a, "g", {b, c}));
  const auto root = must_send(req(a, g, "root"));
  const auto r1 = reply(b, g, root);
  const auto r2 = reply(c, g, root);
  const auto r3 = reply(b, g, root);

  auto ev = event_at(a, g, r3);
  EXPECT_EQ(ev.thread_root, std::optional<std::int64_t>(root));
  auto rt = event_at(a, g, root);
  ASSERT_TRUE(rt.thread);
  EXPECT_EQ(rt.thread->replies, 3);
  EXPECT_EQ(rt.thread->participants, (std::vector<id_t>{b, c}));  // most recent first, distinct
  EXPECT_EQ(rt.thread->last_ms, ev.ts_ms);
  EXPECT_TRUE(rt.thread->following);  // the root's sender follows from the first reply
  EXPECT_EQ(rt.thread->unread, 3);
  // ben replied last: his thread read pointer is at his reply; cid's reply was before it.
  auto for_b = event_at(b, g, root);
  ASSERT_TRUE(for_b.thread);
  EXPECT_TRUE(for_b.thread->following);
  EXPECT_EQ(for_b.thread->unread, 0);
  auto for_c = event_at(c, g, root);
  EXPECT_EQ(for_c.thread->unread, 1);  // ben's r3
  (void)r1;
  (void)r2;

  // The stream (catch-up) carries the same summary for the reader.
  auto s = run(st_->read_stream(c, 0, 100));
  ASSERT_TRUE(s);
  bool seen = false;
  for (auto& it : s->items)
    if (it.ev.seq == root) {
      seen = true;
      ASSERT_TRUE(it.ev.thread);
      EXPECT_EQ(it.ev.thread->replies, 3);
      EXPECT_EQ(it.ev.thread->unread, 1);
    }
  EXPECT_TRUE(seen);

  // A thread-only reply does not count in the conversation's unread; one also sent there does.
  auto before = run(st_->conversation(c, g));
  ASSERT_TRUE(before);
  auto also = req(a, g, "also", root);
  also.also_in_conversation = true;
  const auto r4 = must_send(also);
  auto after = run(st_->conversation(c, g));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->unread, before->unread + 1);
  ASSERT_TRUE(after->last_message);
  EXPECT_EQ(after->last_message->seq, r4);
  EXPECT_TRUE(after->last_message->also_in_conversation);
}

TEST_F(storage_threads, read_follow_and_the_threads_list) {
  const id_t a = user("ana"), b = user("ben");
  const id_t g = *run(st_->create_group(a, a, "g", {b}));
  const auto t1 = must_send(req(a, g, "one"));
  const auto t2 = must_send(req(a, g, "two"));
  const auto t3 = must_send(req(b, g, "three"));
  reply(b, g, t1);
  reply(b, g, t2);
  reply(a, g, t3);  // ben follows t3 (its root's sender); ana by replying

  auto list = run(st_->threads(a, std::nullopt, 10));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->events.size(), 3u);
  EXPECT_EQ(list->events[0].seq, t3);  // latest reply first
  EXPECT_EQ(list->events[1].seq, t2);
  EXPECT_EQ(list->events[2].seq, t1);
  EXPECT_FALSE(list->next);
  EXPECT_EQ(list->events[1].thread->unread, 1);

  // Paging: two pages of 2 and 1, the cursor continuing where the first ended.
  auto p1 = run(st_->threads(a, std::nullopt, 2));
  ASSERT_TRUE(p1 && p1->next);
  ASSERT_EQ(p1->events.size(), 2u);
  auto p2 = run(st_->threads(a, p1->next, 2));
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->events.size(), 1u);
  EXPECT_EQ(p2->events[0].seq, t1);
  EXPECT_FALSE(p2->next);

  auto st = run(st_->read_thread(a, g, t2, t2 + 1000));  // clamped to last_seq
  ASSERT_TRUE(st);
  EXPECT_EQ(st->read_seq, last_seq(a, g));
  EXPECT_EQ(st->unread, 0);
  EXPECT_TRUE(st->following);
  auto back = run(st_->read_thread(a, g, t2, 0));  // never back
  ASSERT_TRUE(back);
  EXPECT_EQ(back->read_seq, st->read_seq);

  auto un = run(st_->follow_thread(a, g, t1, false));
  ASSERT_TRUE(un);
  EXPECT_FALSE(un->following);
  EXPECT_EQ(un->unread, 0);
  list = run(st_->threads(a, std::nullopt, 10));
  ASSERT_TRUE(list);
  EXPECT_EQ(list->events.size(), 2u);
  auto fo = run(st_->follow_thread(a, g, t1, true));
  ASSERT_TRUE(fo);
  EXPECT_TRUE(fo->following);
  EXPECT_EQ(fo->unread, 1);

  // An explicit unfollow before the first reply sticks: the root's sender does not follow.
  const auto t4 = must_send(req(b, g, "four"));
  ASSERT_TRUE(run(st_->follow_thread(b, g, t4, false)));
  reply(a, g, t4);
  EXPECT_FALSE(event_at(b, g, t4).thread->following);
  // A reply that mentions someone by name makes them follow.
  auto m = req(a, g, "@ben look", t4);
  m.mention_names = {"ben"};
  must_send(m);
  EXPECT_TRUE(event_at(b, g, t4).thread->following);
}

TEST_F(storage_threads, a_long_thread_opens_with_one_page) {
  const id_t a = user("ana"), b = user("ben");
  const id_t g = *run(st_->create_group(a, a, "g", {b}));
  const auto root = must_send(req(a, g, "root"));
  must_send(req(a, g, "not in the thread"));
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 230; ++i) seqs.push_back(reply(i % 2 ? a : b, g, root));
  auto p = run(st_->thread(b, g, root, std::nullopt, std::nullopt, 100));
  ASSERT_TRUE(p);
  ASSERT_EQ(p->replies.size(), 100u);
  EXPECT_TRUE(p->has_more);
  EXPECT_EQ(p->replies.front().seq, seqs[130]);
  EXPECT_EQ(p->replies.back().seq, seqs.back());
  ASSERT_TRUE(p->root.thread);
  EXPECT_EQ(p->root.thread->replies, 230);
  auto older = run(st_->thread(b, g, root, p->replies.front().seq, std::nullopt, 100));
  ASSERT_TRUE(older);
  EXPECT_EQ(older->replies.size(), 100u);
  EXPECT_EQ(older->replies.back().seq, seqs[129]);
  auto oldest = run(st_->thread(b, g, root, older->replies.front().seq, std::nullopt, 100));
  ASSERT_TRUE(oldest);
  EXPECT_EQ(oldest->replies.size(), 30u);
  EXPECT_FALSE(oldest->has_more);
  auto fwd = run(st_->thread(b, g, root, std::nullopt, seqs[220], 100));
  ASSERT_TRUE(fwd);
  EXPECT_EQ(fwd->replies.size(), 9u);
  EXPECT_FALSE(fwd->has_more);
  EXPECT_EQ(fwd->replies.front().seq, seqs[221]);
}

TEST_F(storage_threads, bad_roots_are_typed_errors_and_change_nothing) {
  const id_t a = user("ana"), b = user("ben");
  const id_t g = *run(st_->create_group(a, a, "g", {b}));
  const id_t h = *run(st_->create_group(a, a, "h", {b}));
  const auto root = must_send(req(a, g, "root"));
  const auto r = reply(b, g, root);
  for (int i = 0; i < 5; ++i) must_send(req(a, h, "filler"));  // seqs that exist in h only
  const auto before = last_seq(a, g);

  auto code = [&](std::optional<std::int64_t> rt) {
    auto s = send(req(b, g, "x", rt));
    return s ? errc::ok : s.error().code;
  };
  EXPECT_EQ(code(r), errc::invalid_field);             // a reply to a reply
  EXPECT_EQ(code(1), errc::invalid_field);             // seq 1 is the created event
  EXPECT_EQ(code(before + 3), errc::not_found);        // in h, not in g
  EXPECT_EQ(code(999999), errc::not_found);            // nowhere
  EXPECT_EQ(last_seq(a, g), before);
  EXPECT_EQ(event_at(a, g, root).thread->replies, 1);

  EXPECT_EQ(run(st_->thread(a, g, r, std::nullopt, std::nullopt, 10)).error().code, errc::invalid_field);
  EXPECT_EQ(run(st_->thread(a, g, 1, std::nullopt, std::nullopt, 10)).error().code, errc::invalid_field);
  EXPECT_EQ(run(st_->thread(a, g, 999, std::nullopt, std::nullopt, 10)).error().code, errc::not_found);
  EXPECT_EQ(run(st_->follow_thread(a, g, r, true)).error().code, errc::invalid_field);
  EXPECT_EQ(run(st_->read_thread(a, g, 999, 1)).error().code, errc::not_found);
}

TEST_F(storage_threads, former_members_and_strangers) {
  const id_t a = user("ana"), b = user("ben"), x = user("xen");
  const id_t g = *run(st_->create_group(a, a, "g", {b}));
  const auto root = must_send(req(a, g, "root"));
  reply(b, g, root);
  ASSERT_TRUE(run(st_->remove_member(a, a, g, b)));
  const auto later = reply(a, g, root);

  EXPECT_EQ(send(req(b, g, "x", root)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->follow_thread(b, g, root, true)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->read_thread(b, g, root, 5)).error().code, errc::forbidden);
  // Reads follow history's rules: up to the removal.
  auto p = run(st_->thread(b, g, root, std::nullopt, std::nullopt, 10));
  ASSERT_TRUE(p);
  ASSERT_EQ(p->replies.size(), 1u);
  EXPECT_LT(p->replies[0].seq, later);
  EXPECT_FALSE(p->root.thread);  // the summary counts a reply the former member may not read
  EXPECT_FALSE(event_at(b, g, root).thread);
  EXPECT_TRUE(event_at(a, g, root).thread);
  auto list = run(st_->threads(b, std::nullopt, 10));
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->events.empty());

  EXPECT_EQ(send(req(x, g, "x", root)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->thread(x, g, root, std::nullopt, std::nullopt, 10)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->follow_thread(x, g, root, true)).error().code, errc::forbidden);
}

TEST_F(storage_threads, usernames_resolve_to_members_and_count_as_unread_mentions) {
  const id_t a = user("ana"), b = user("ben"), c = user("cid"), x = user("xen");
  const id_t g = *run(st_->create_group(a, a, "g", {b, c}));
  auto m = req(a, g, "@ben @cid @xen @nobody @ana");
  m.mention_names = {"ana", "ben", "cid", "nobody", "xen"};
  const auto seq = must_send(m);
  auto ev = event_at(b, g, seq);
  EXPECT_EQ(ev.mentions, (std::vector<id_t>{a, b, c}));  // members only (the sender too), ascending
  (void)x;

  auto conv_of = [&](id_t u) {
    auto s = run(st_->conversation(u, g));
    EXPECT_TRUE(s);
    return s ? *s : conversation_summary{};
  };
  EXPECT_EQ(conv_of(b).unread_mentions, 1);
  EXPECT_EQ(conv_of(a).unread_mentions, 0);  // never the sender
  ASSERT_TRUE(run(st_->mark_read(b, 0, g, seq)));
  EXPECT_EQ(conv_of(b).unread_mentions, 0);
  EXPECT_EQ(conv_of(c).unread_mentions, 1);

  auto list = run(st_->mentions(b, std::nullopt, 10));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->events.size(), 1u);
  EXPECT_EQ(list->events[0].seq, seq);
  EXPECT_EQ(list->events[0].mentions, (std::vector<id_t>{a, b, c}));
}

TEST_F(storage_threads, wildcards_follow_the_size_rule) {
  const id_t o = user("owner");
  std::vector<id_t> others;
  for (int i = 0; i < 15; ++i) others.push_back(user("m" + std::to_string(i)));
  const id_t g = *run(st_->create_group(o, o, "big", others));  // 16 members
  ASSERT_TRUE(run(st_->set_role(o, o, g, others[0], conv_role::admin)));
  const auto before = last_seq(o, g);

  auto all = req(others[1], g, "@all hello");
  all.mention_all = true;
  EXPECT_EQ(send(all).error().code, errc::forbidden);
  auto here = req(others[1], g, "@here hello");
  here.mention_here = true;
  EXPECT_EQ(send(here).error().code, errc::forbidden);
  EXPECT_EQ(last_seq(o, g), before);

  // A larger limit lets a plain member through; admins and owners always.
  auto ok = req(others[1], g, "@all hi");
  ok.mention_all = true;
  ok.wildcard_limit = 16;
  EXPECT_TRUE(send(ok));
  auto adm = req(others[0], g, "@all hi");
  adm.mention_all = true;
  const auto seq = must_send(adm);
  EXPECT_TRUE(event_at(o, g, seq).mention_all);
  auto own = run(st_->conversation(o, g));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->unread_mentions, 2);
  auto sender = run(st_->mentions(others[0], std::nullopt, 10));
  ASSERT_TRUE(sender);
  ASSERT_EQ(sender->events.size(), 1u);  // the plain member's @all, not its own
  EXPECT_EQ(sender->events[0].sender, others[1]);
  EXPECT_EQ(run(st_->conversation(others[0], g))->unread_mentions, 0);  // its send moved its read pointer past it

  // @here mentions the online members given with the send.
  auto h = req(o, g, "@here hi");
  h.mention_here = true;
  h.online = {others[5], o, 999999};
  const auto hs = must_send(h);
  auto five = run(st_->mentions(others[5], std::nullopt, 10));
  ASSERT_TRUE(five);
  ASSERT_FALSE(five->events.empty());
  EXPECT_EQ(five->events[0].seq, hs);
  EXPECT_TRUE(five->events[0].mention_here);
  auto six = run(st_->mentions(others[6], std::nullopt, 10));
  ASSERT_TRUE(six);
  ASSERT_FALSE(six->events.empty());
  EXPECT_NE(six->events[0].seq, hs);

  // The mentions list pages newest first.
  auto p1 = run(st_->mentions(others[5], std::nullopt, 2));
  ASSERT_TRUE(p1 && p1->next);
  ASSERT_EQ(p1->events.size(), 2u);
  auto p2 = run(st_->mentions(others[5], p1->next, 2));
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->events.size(), 1u);
  EXPECT_LT(p2->events[0].seq, p1->events[1].seq);
}

// Sends queued together run as one group (PostgreSQL: set-based): replies and mentions among them
// each get their derived rows.
TEST_F(storage_threads, concurrent_replies_all_count) {
  const id_t a = user("ana"), b = user("ben");
  const id_t g = *run(st_->create_group(a, a, "g", {b}));
  const auto root = must_send(req(a, g, "root"));
  std::vector<std::future<result<send_ack>>> futs;
  for (int i = 0; i < 40; ++i) {
    auto r = req(i % 2 ? a : b, g, i % 4 == 0 ? "@ana hey" : "re", i % 3 == 0 ? std::nullopt : std::optional<std::int64_t>(root));
    if (i % 4 == 0) r.mention_names = {"ana"};
    futs.push_back(asio::co_spawn(ioc_, st_->send(r), asio::use_future));
  }
  ioc_.restart();
  ioc_.run();
  int replies = 0, to_ana = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = futs[i].get();
    ASSERT_TRUE(r) << r.error().message;
    if (i % 3 != 0) ++replies;
    if (i % 4 == 0 && i % 2 == 0) ++to_ana;  // ben's sends naming ana
  }
  auto rt = event_at(a, g, root);
  ASSERT_TRUE(rt.thread);
  EXPECT_EQ(rt.thread->replies, replies);
  auto conv = run(st_->conversation(a, g));
  ASSERT_TRUE(conv);
  auto list = run(st_->mentions(a, std::nullopt, 100));
  ASSERT_TRUE(list);
  EXPECT_EQ(static_cast<int>(list->events.size()), to_ana);
}

}  // namespace
}  // namespace confab::testing
