// Storage conformance of moderation (both backends, one binary each): conversation settings, the
// send path's post policy, mutes and slow mode, pins, bans, and notification levels. Every refusal
// leaves the conversation as it was (its last seq does not move).
#include "backend_fixture.hpp"
#include "core/time.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace confab::testing {
namespace {
namespace asio = boost::asio;

class storage_moderation : public store_test {
 protected:
  void SetUp() override {
    store_test::SetUp();
    o_ = user("owner");
    a_ = user("admin");
    m_ = user("member");
    x_ = user("stranger");
    g_ = *run(st_->create_group(o_, 1, "team", {a_, m_}));
    ASSERT_TRUE(run(st_->set_role(o_, 1, g_, a_, conv_role::admin)));
  }

  result<send_ack> send(id_t u, id_t conv, const std::string& cid) {
    return run(st_->send({u, u * 10, conv, cid, "text " + cid, "text/plain", std::nullopt}));
  }
  std::int64_t last_seq(id_t conv) { return run(st_->conversation(o_, conv))->last_seq; }
  conversation_summary summary(id_t u, id_t conv) { return *run(st_->conversation(u, conv)); }
  // The error of a write that must be refused, and the check that it changed nothing.
  template <class T>
  errc refused(asio::awaitable<result<T>> a, id_t conv) {
    const auto before = last_seq(conv);
    auto r = run(std::move(a));
    EXPECT_FALSE(r);
    EXPECT_EQ(last_seq(conv), before);
    return r ? errc::ok : r.error().code;
  }
  std::vector<stream_item> stream(id_t u) { return run(st_->read_stream(u, 0, 1000))->items; }

  id_t o_ = 0, a_ = 0, m_ = 0, x_ = 0, g_ = 0;
};

settings_payload change() { return {}; }

TEST_F(storage_moderation, settings_are_events_with_only_the_changed_fields_and_show_in_the_summary) {
  auto s0 = summary(m_, g_);
  EXPECT_EQ(s0.description, "");
  EXPECT_EQ(s0.settings.post_policy, conv_policy::everyone);
  EXPECT_EQ(s0.settings.pin_policy, conv_policy::admins);
  EXPECT_FALSE(s0.settings.wildcard_limit);
  EXPECT_EQ(s0.settings.slow_mode_s, 0);

  auto ch = change();
  ch.title = "renamed";
  ch.description = "about \"us\"";
  ch.slow_mode_s = 30;
  auto seq = run(st_->set_conversation(a_, 2, g_, ch));  // an admin may
  ASSERT_TRUE(seq) << seq.error().message;
  auto s1 = summary(m_, g_);
  EXPECT_EQ(s1.title, "renamed");
  EXPECT_EQ(s1.description, "about \"us\"");
  EXPECT_EQ(s1.settings.slow_mode_s, 30);
  EXPECT_EQ(s1.settings.post_policy, conv_policy::everyone);  // untouched

  auto ev = stream(m_).back().ev;
  EXPECT_EQ(ev.kind, event_kind::settings_changed);
  EXPECT_EQ(ev.seq, *seq);
  EXPECT_EQ(ev.sender, a_);
  settings_payload want;
  want.by = a_;
  want.title = "renamed";
  want.description = "about \"us\"";
  want.slow_mode_s = 30;
  EXPECT_EQ(std::get<settings_payload>(ev.payload), want);

  auto ch2 = change();
  ch2.post_policy = conv_policy::admins;
  ch2.pin_policy = conv_policy::everyone;
  ch2.wildcard_limit = 3;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch2)));
  auto s2 = summary(o_, g_);
  EXPECT_EQ(s2.settings.post_policy, conv_policy::admins);
  EXPECT_EQ(s2.settings.pin_policy, conv_policy::everyone);
  EXPECT_EQ(s2.settings.wildcard_limit, 3);
  EXPECT_EQ(s2.settings.slow_mode_s, 30);
  EXPECT_EQ(s2.description, "about \"us\"");
}

TEST_F(storage_moderation, only_owners_and_admins_of_groups_change_settings) {
  auto ch = change();
  ch.title = "x";
  EXPECT_EQ(refused(st_->set_conversation(m_, 3, g_, ch), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->set_conversation(x_, 4, g_, ch), g_), errc::forbidden);
  ASSERT_TRUE(run(st_->remove_member(o_, 1, g_, a_)));
  EXPECT_EQ(refused(st_->set_conversation(a_, 2, g_, ch), g_), errc::forbidden);  // removed
  id_t d = run(st_->create_direct(o_, 1, m_))->conv;
  EXPECT_EQ(refused(st_->set_conversation(o_, 1, d, ch), d), errc::forbidden);
  EXPECT_EQ(run(st_->set_conversation(o_, 1, 999999, ch)).error().code, errc::not_found);
  EXPECT_EQ(summary(o_, g_).title, "team");
}

TEST_F(storage_moderation, announcement_groups_let_only_owners_and_admins_post) {
  auto ch = change();
  ch.post_policy = conv_policy::admins;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
  EXPECT_EQ(refused(st_->send({m_, 30, g_, "m1", "x", "text/plain", std::nullopt}), g_), errc::forbidden);
  EXPECT_TRUE(send(a_, g_, "a1"));
  EXPECT_TRUE(send(o_, g_, "o1"));
  ch.post_policy = conv_policy::everyone;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
  EXPECT_TRUE(send(m_, g_, "m2"));
}

TEST_F(storage_moderation, slow_mode_limits_members_says_how_long_to_wait_and_exempts_admins) {
  auto ch = change();
  ch.slow_mode_s = 1;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
  ASSERT_TRUE(send(m_, g_, "m1"));
  const auto before = last_seq(g_);
  auto r = send(m_, g_, "m2");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::slow_mode);
  ASSERT_TRUE(r.error().retry_after_ms);
  EXPECT_GT(*r.error().retry_after_ms, 0);
  EXPECT_LE(*r.error().retry_after_ms, 1000);
  EXPECT_NE(r.error().message.find("wait"), std::string::npos);
  EXPECT_EQ(last_seq(g_), before);
  // A retry of the accepted send is its ack, not a slow-mode refusal.
  auto again = send(m_, g_, "m1");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  // Owners and admins are exempt.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(send(a_, g_, "a" + std::to_string(i)));
    EXPECT_TRUE(send(o_, g_, "o" + std::to_string(i)));
  }
  // After the wait the member may post again (a real second: the store reads the wall clock).
  std::this_thread::sleep_for(std::chrono::milliseconds(*r.error().retry_after_ms + 20));
  EXPECT_TRUE(send(m_, g_, "m3"));
  // Off again: no limit.
  ch.slow_mode_s = 0;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
  EXPECT_TRUE(send(m_, g_, "m4"));
  EXPECT_TRUE(send(m_, g_, "m5"));
}

// Sends queued together run as one group (set-based on PostgreSQL): of one member's sends in a
// slow-mode conversation only the first is appended; the others wait, whoever else posts.
TEST_F(storage_moderation, slow_mode_holds_for_sends_queued_together) {
  auto ch = change();
  ch.slow_mode_s = 60;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
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
  for (int i = 0; i < 4; ++i) {
    fs.push_back(asio::co_spawn(ioc_, st_->send({m_, 30, g_, "m" + std::to_string(i), "x", "text/plain", std::nullopt}), asio::use_future));
    fs.push_back(asio::co_spawn(ioc_, st_->send({a_, 20, g_, "a" + std::to_string(i), "x", "text/plain", std::nullopt}), asio::use_future));
  }
  ioc_.restart();
  ioc_.poll();
  open_gate.set_value();
  ioc_.run();
  holder.join();
  int member_ok = 0, admin_ok = 0;
  for (std::size_t i = 0; i < fs.size(); ++i) {
    auto r = fs[i].get();
    if (i % 2 == 0) {
      if (r) ++member_ok;
      else EXPECT_EQ(r.error().code, errc::slow_mode);
    } else {
      EXPECT_TRUE(r) << r.error().message;
      if (r) ++admin_ok;
    }
  }
  EXPECT_EQ(member_ok, 1);
  EXPECT_EQ(admin_ok, 4);
  auto h = run(st_->history(o_, g_, std::nullopt, std::nullopt, 100));
  int member_msgs = 0;
  for (auto& e : h->events) member_msgs += e.kind == event_kind::message && e.sender == m_;
  EXPECT_EQ(member_msgs, 1);
}

// Only sends into conversations marked moderated read the moderation rows; the step that added
// the mark marks every conversation that had settings or a mute before it, so an upgrade keeps
// them in force.
TEST_F(storage_moderation, the_upgrade_marks_conversations_that_already_had_settings_or_mutes) {
  id_t muted = g_;
  id_t slow = *run(st_->create_group(o_, 1, "slow", {m_}));
  id_t plain = *run(st_->create_group(o_, 1, "plain", {m_}));
  ASSERT_TRUE(run(st_->mute_member(o_, 1, muted, m_, now_ms() + 3'600'000)));
  auto ch = change();
  ch.slow_mode_s = 3600;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, slow, ch)));
  st_->stop();
  {  // back to the version before the mark
    auto conn = be_->factory()();
    ASSERT_TRUE(conn);
    // issue 12: v_channels comes after the mark; undo it too, so both run again
    ASSERT_TRUE((*conn)->exec(be_->name() == "postgres"
                                  ? "DROP TRIGGER channel_member_count ON members; DROP FUNCTION channel_member_count(); "
                                    "DROP TRIGGER channel_members_inserted ON members; DROP FUNCTION channel_members_inserted(); "
                                    "DROP TABLE channels; DROP INDEX events_wildcard"
                                  : "DROP TRIGGER channel_member_in; DROP TRIGGER channel_member_left; DROP TRIGGER channel_member_back; "
                                    "DROP TABLE channels; DROP INDEX events_wildcard"));
    // issue 13: and v_search after it
    ASSERT_TRUE((*conn)->exec(be_->name() == "postgres" ? "DROP TABLE search_docs; DROP TABLE feed_leases" : "DROP TABLE search_fts; DROP TABLE search_docs; DROP TABLE feed_leases"));
    // issue 15: and v_push after that
    ASSERT_TRUE((*conn)->exec("DROP TABLE push_targets; DROP TABLE device_receipts; DROP TABLE push_queue"));
    ASSERT_TRUE((*conn)->exec("ALTER TABLE conversations DROP COLUMN moderated; UPDATE schema_version SET version = version - 4"));
  }
  reopen();
  EXPECT_EQ(refused(st_->send({m_, 30, muted, "m1", "x", "text/plain", std::nullopt}), muted), errc::forbidden);
  ASSERT_TRUE(send(m_, slow, "s1"));
  EXPECT_EQ(refused(st_->send({m_, 30, slow, "s2", "x", "text/plain", std::nullopt}), slow), errc::slow_mode);
  ASSERT_TRUE(send(m_, plain, "p1"));
  ASSERT_TRUE(send(m_, plain, "p2"));
  auto conn = be_->factory()();
  ASSERT_TRUE(conn);
  auto marks = storage::query(**conn, "SELECT id, moderated FROM conversations WHERE id IN ($1, $2, $3) ORDER BY id",
                              {muted, slow, plain});
  ASSERT_TRUE(marks);
  ASSERT_EQ(marks->size(), 3u);
  EXPECT_EQ((*marks)[0].i64(1), 1);
  EXPECT_EQ((*marks)[1].i64(1), 1);
  EXPECT_EQ((*marks)[2].i64(1), 0);
}

TEST_F(storage_moderation, muted_members_cannot_post_or_pin_until_unmuted) {
  ASSERT_TRUE(send(o_, g_, "o1"));
  const std::int64_t until = now_ms() + 3'600'000;
  auto seq = run(st_->mute_member(a_, 2, g_, m_, until));
  ASSERT_TRUE(seq) << seq.error().message;
  auto ev = stream(m_).back().ev;
  EXPECT_EQ(ev.kind, event_kind::member_muted);
  EXPECT_EQ(std::get<moderation_payload>(ev.payload), (moderation_payload{m_, a_, until}));
  EXPECT_EQ(summary(m_, g_).member_muted_until, until);
  EXPECT_EQ(refused(st_->send({m_, 30, g_, "m1", "x", "text/plain", std::nullopt}), g_), errc::forbidden);
  auto ch = change();
  ch.pin_policy = conv_policy::everyone;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
  EXPECT_EQ(refused(st_->set_pin(m_, 30, g_, 2, true), g_), errc::forbidden);
  // The muted member still reads.
  EXPECT_TRUE(run(st_->history(m_, g_, std::nullopt, std::nullopt, 10)));
  ASSERT_TRUE(run(st_->mute_member(o_, 1, g_, m_, std::nullopt)));
  EXPECT_EQ(stream(m_).back().ev.kind, event_kind::member_unmuted);
  EXPECT_FALSE(summary(m_, g_).member_muted_until);
  EXPECT_TRUE(send(m_, g_, "m2"));
  EXPECT_EQ(refused(st_->mute_member(o_, 1, g_, m_, std::nullopt), g_), errc::not_found);  // not muted
  // An expired mute no longer counts.
  ASSERT_TRUE(run(st_->mute_member(o_, 1, g_, m_, now_ms() - 1)));
  EXPECT_TRUE(send(m_, g_, "m3"));
}

TEST_F(storage_moderation, moderation_follows_rank) {
  const auto later = now_ms() + 60'000;
  id_t m2 = user("member2");
  ASSERT_TRUE(run(st_->add_members(o_, 1, g_, {m2})));
  // An admin cannot mute or ban the owner or another admin; a member moderates nobody.
  id_t a2 = user("admin2");
  ASSERT_TRUE(run(st_->add_members(o_, 1, g_, {a2})));
  ASSERT_TRUE(run(st_->set_role(o_, 1, g_, a2, conv_role::admin)));
  EXPECT_EQ(refused(st_->mute_member(a_, 2, g_, o_, later), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->mute_member(a_, 2, g_, a2, later), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(a_, 2, g_, o_, true), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(a_, 2, g_, a2, true), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->mute_member(m_, 3, g_, m2, later), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(m_, 3, g_, m2, true), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->mute_member(x_, 4, g_, m2, later), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->mute_member(a_, 2, g_, a_, later), g_), errc::invalid_field);  // oneself
  EXPECT_EQ(refused(st_->mute_member(a_, 2, g_, x_, later), g_), errc::not_found);      // not a member
  // The owner may mute an admin.
  EXPECT_TRUE(run(st_->mute_member(o_, 1, g_, a2, later)));
  id_t d = run(st_->create_direct(o_, 1, m_))->conv;
  EXPECT_EQ(refused(st_->mute_member(o_, 1, d, m_, later), d), errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(o_, 1, d, m_, true), d), errc::forbidden);
}

TEST_F(storage_moderation, a_ban_removes_the_member_and_prevents_re_adding_until_unbanned) {
  ASSERT_TRUE(send(o_, g_, "o1"));
  sink_.seen.clear();
  auto seq = run(st_->ban_member(a_, 2, g_, m_, true));
  ASSERT_TRUE(seq) << seq.error().message;
  // The banned member gets the ban, then nothing more; it is a removal.
  auto ev = stream(m_).back().ev;
  EXPECT_EQ(ev.kind, event_kind::member_banned);
  EXPECT_EQ(ev.seq, *seq);
  EXPECT_EQ(membership_change(ev).removed, std::vector<id_t>{m_});
  ASSERT_EQ(sink_.seen.size(), 1u);
  EXPECT_EQ(sink_.seen[0].first.kind, event_kind::member_banned);
  ASSERT_TRUE(send(o_, g_, "o2"));
  EXPECT_EQ(stream(m_).back().ev.seq, *seq);
  EXPECT_EQ(run(st_->send({m_, 30, g_, "m1", "x", "text/plain", std::nullopt})).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->conversation(m_, g_)).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->history(m_, g_, std::nullopt, std::nullopt, 100))->events.back().seq, *seq);  // up to the ban
  // Not added back, alone or with others; nothing changes.
  EXPECT_EQ(refused(st_->add_members(o_, 1, g_, {m_}), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->add_members(o_, 1, g_, {x_, m_}), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(o_, 1, g_, m_, true), g_), errc::conflict);  // already banned
  // Someone who never was a member can be banned too.
  ASSERT_TRUE(run(st_->ban_member(o_, 1, g_, x_, true)));
  EXPECT_EQ(refused(st_->add_members(a_, 2, g_, {x_}), g_), errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(o_, 1, g_, 999999, true), g_), errc::not_found);  // no such user
  // Unbanned: may be added again (unbanning does not add).
  ASSERT_TRUE(run(st_->ban_member(a_, 2, g_, m_, false)));
  EXPECT_EQ(stream(o_).back().ev.kind, event_kind::member_unbanned);
  EXPECT_EQ(run(st_->conversation(m_, g_)).error().code, errc::forbidden);
  EXPECT_EQ(refused(st_->ban_member(a_, 2, g_, m_, false), g_), errc::not_found);  // not banned
  ASSERT_TRUE(run(st_->add_members(a_, 2, g_, {m_})));
  EXPECT_TRUE(send(m_, g_, "m2"));
}

TEST_F(storage_moderation, pins_follow_the_pin_policy_and_list_with_their_messages) {
  auto m1 = *send(m_, g_, "m1");
  auto m2 = *send(m_, g_, "m2");
  // Default policy: owners and admins.
  EXPECT_EQ(refused(st_->set_pin(m_, 30, g_, m1.seq, true), g_), errc::forbidden);
  auto p1 = run(st_->set_pin(a_, 20, g_, m1.seq, true));
  ASSERT_TRUE(p1) << p1.error().message;
  auto ev = stream(m_).back().ev;
  EXPECT_EQ(ev.kind, event_kind::pinned);
  EXPECT_EQ(std::get<pin_payload>(ev.payload), (pin_payload{m1.seq, a_}));
  ASSERT_TRUE(run(st_->set_pin(o_, 10, g_, m2.seq, true)));
  auto ps = run(st_->pins(m_, g_));
  ASSERT_TRUE(ps);
  ASSERT_EQ(ps->size(), 2u);
  std::set<std::int64_t> seqs{(*ps)[0].seq, (*ps)[1].seq};
  EXPECT_EQ(seqs, (std::set<std::int64_t>{m1.seq, m2.seq}));
  EXPECT_GE((*ps)[0].pinned_ms, (*ps)[1].pinned_ms);  // most recent first
  for (auto& p : *ps) {
    EXPECT_EQ(p.message.seq, p.seq);
    EXPECT_EQ(p.message.kind, event_kind::message);
    EXPECT_EQ(p.message.text, "text " + p.message.client_id);
  }
  // Bad targets.
  EXPECT_EQ(refused(st_->set_pin(o_, 10, g_, m1.seq, true), g_), errc::conflict);     // already pinned
  EXPECT_EQ(refused(st_->set_pin(o_, 10, g_, 1, true), g_), errc::invalid_field);     // "created"
  EXPECT_EQ(refused(st_->set_pin(o_, 10, g_, 999, true), g_), errc::not_found);       // no such seq
  EXPECT_EQ(refused(st_->set_pin(o_, 10, g_, last_seq(g_) + 1, true), g_), errc::not_found);
  EXPECT_EQ(refused(st_->set_pin(x_, 40, g_, m1.seq, true), g_), errc::forbidden);    // stranger
  EXPECT_EQ(run(st_->pins(x_, g_)).error().code, errc::forbidden);
  // Unpin.
  EXPECT_EQ(refused(st_->set_pin(m_, 30, g_, m1.seq, false), g_), errc::forbidden);
  ASSERT_TRUE(run(st_->set_pin(a_, 20, g_, m1.seq, false)));
  EXPECT_EQ(stream(m_).back().ev.kind, event_kind::unpinned);
  EXPECT_EQ(refused(st_->set_pin(a_, 20, g_, m1.seq, false), g_), errc::not_found);  // not pinned
  EXPECT_EQ(run(st_->pins(m_, g_))->size(), 1u);
  // Policy "everyone": members pin too.
  auto ch = change();
  ch.pin_policy = conv_policy::everyone;
  ASSERT_TRUE(run(st_->set_conversation(o_, 1, g_, ch)));
  EXPECT_TRUE(run(st_->set_pin(m_, 30, g_, m1.seq, true)));
  // Direct conversations have no roles: both people pin.
  id_t d = run(st_->create_direct(o_, 1, m_))->conv;
  auto dm = *send(o_, d, "d1");
  EXPECT_TRUE(run(st_->set_pin(m_, 30, d, dm.seq, true)));
}

TEST_F(storage_moderation, at_most_fifty_pins_per_conversation) {
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 51; ++i) seqs.push_back(send(o_, g_, "m" + std::to_string(i))->seq);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(run(st_->set_pin(o_, 10, g_, seqs[i], true))) << i;
  EXPECT_EQ(refused(st_->set_pin(o_, 10, g_, seqs[50], true), g_), errc::limit_reached);
  EXPECT_EQ(run(st_->pins(o_, g_))->size(), 50u);
  ASSERT_TRUE(run(st_->set_pin(o_, 10, g_, seqs[0], false)));
  EXPECT_TRUE(run(st_->set_pin(o_, 10, g_, seqs[50], true)));
}

TEST_F(storage_moderation, notification_levels_are_stored_per_user_and_survive_reopening) {
  EXPECT_EQ(summary(m_, g_).notify, "all");
  EXPECT_FALSE(summary(m_, g_).muted_until);
  const auto until = now_ms() + 3'600'000;
  auto r = run(st_->set_notify(m_, g_, {"none", until}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->level, "none");
  EXPECT_EQ(summary(m_, g_).notify, "none");
  EXPECT_EQ(summary(m_, g_).muted_until, until);
  EXPECT_EQ(summary(o_, g_).notify, "all");  // per user
  EXPECT_EQ(run(st_->set_notify(x_, g_, {"all", std::nullopt})).error().code, errc::forbidden);
  EXPECT_EQ(run(st_->set_notify(m_, 999999, {"all", std::nullopt})).error().code, errc::not_found);
  // A mute in the past is not shown.
  ASSERT_TRUE(run(st_->set_notify(o_, g_, {"mentions", now_ms() - 1})));
  EXPECT_EQ(summary(o_, g_).notify, "mentions");
  EXPECT_FALSE(summary(o_, g_).muted_until);
  st_->stop();
  st_ = be_->open();
  EXPECT_EQ(summary(m_, g_).notify, "none");
  EXPECT_EQ(summary(m_, g_).muted_until, until);
  auto list = run(st_->conversations(m_, std::nullopt, 10));
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].notify, "none");
}

}  // namespace
}  // namespace confab::testing
