import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConversationList, displayTitle, initials } from '../../src/lib/conversations';
import { MemoryKV } from '../../src/lib/kv';
import { newClientId, Outbox } from '../../src/lib/outbox';
import { deliveryState, rows, Timeline, typingText } from '../../src/lib/timeline';
import { TypingSender, TypingTracker } from '../../src/lib/typing';
import { ChatEvent, Summary } from '../../src/lib/types';

const ME = 1;
function msg(conv: number, seq: number, sender = 2, ts = 1000 * seq): ChatEvent {
  return { conv, seq, kind: 'message', sender, device: 5, ts, text: `m${seq}` };
}
function summary(conv: number, last_seq: number, last_ts: number, extra: Partial<Summary> = {}): Summary {
  return { conv, kind: 'group', title: `g${conv}`, last_seq, last_ts, read_seq: last_seq, unread: 0, role: 'member', last_message: null, ...extra };
}

test('outbox persists entries in creation order and survives a reload', () => {
  const kv = new MemoryKV();
  const a = new Outbox(kv, 3);
  a.add({ client_id: '3-a', conv: 1, text: 'one', created_ts: 1 });
  a.add({ client_id: '3-b', conv: 2, text: 'two', created_ts: 2 });
  a.add({ client_id: '3-a', conv: 1, text: 'dup', created_ts: 3 });
  const b = new Outbox(kv, 3); // a new page load
  assert.deepEqual(
    b.pending().map((e) => e.client_id),
    ['3-a', '3-b'],
  );
  b.fail('3-a', 'text_too_long', 'too long');
  assert.deepEqual(
    a.pending().map((e) => e.client_id),
    ['3-b'],
  );
  a.remove('3-b');
  a.remove('3-a');
  assert.equal(kv.get('confab.d3.outbox'), null);
});

test('client ids are device-scoped and unique', () => {
  let n = 0;
  const rnd = (k: number) => new Uint8Array(k).map(() => n++ & 0xff);
  const a = newClientId(7, rnd);
  const b = newClientId(7, rnd);
  assert.match(a, /^7-[0-9a-f]{24}$/);
  assert.notEqual(a, b);
});

test('conversation list orders by activity and counts unread from others only', () => {
  const l = new ConversationList(ME);
  l.upsert([summary(1, 3, 100), summary(2, 1, 200)]);
  assert.deepEqual(
    l.ordered().map((s) => s.conv),
    [2, 1],
  );
  l.apply(msg(1, 4, 2, 300));
  l.apply(msg(1, 5, ME, 301));
  l.apply(msg(1, 6, 2, 302));
  const s = l.get(1)!;
  assert.equal(s.unread, 1, 'my own message moved the read pointer to 5; only seq 6 is unread');
  assert.equal(s.last_message?.seq, 6);
  assert.deepEqual(
    l.ordered().map((x) => x.conv),
    [1, 2],
  );
});

test('applying an event twice, or one already in the summary, changes nothing', () => {
  const l = new ConversationList(ME);
  l.upsert([summary(1, 3, 100, { read_seq: 1, unread: 2 })]);
  l.apply(msg(1, 3));
  l.apply(msg(1, 4));
  l.apply(msg(1, 4));
  assert.equal(l.get(1)!.unread, 3);
  assert.equal(l.get(1)!.last_seq, 4);
  l.upsert([summary(1, 3, 100)]); // a stale snapshot does not roll back
  assert.equal(l.get(1)!.last_seq, 4);
});

test('an unknown conversation asks for its summary; my removal drops it', () => {
  const l = new ConversationList(ME);
  assert.deepEqual(l.apply(msg(9, 1)), { kind: 'unknown_conv', conv: 9 });
  l.upsert([summary(9, 1, 1)]);
  const left: ChatEvent = { conv: 9, seq: 2, kind: 'member_removed', sender: 2, device: 1, ts: 2, data: { user: ME, by: 2 } };
  assert.deepEqual(l.apply(left), { kind: 'removed', conv: 9 });
  // Kept read-only (a former member reads the history up to the removal), with nothing unread.
  assert.equal(l.get(9)!.left, true);
  assert.equal(l.get(9)!.unread, 0);
});

test('read pointer updates clear the badge', () => {
  const l = new ConversationList(ME);
  l.upsert([summary(1, 5, 1, { read_seq: 2, unread: 3 })]);
  l.markRead(1, 5);
  assert.equal(l.get(1)!.unread, 0);
  l.markRead(1, 3); // never backwards
  assert.equal(l.get(1)!.read_seq, 5);
});

test('a receipt that does not move the read pointer (delivery) keeps the unread count', () => {
  const l = new ConversationList(ME);
  l.upsert([summary(1, 5, 1, { read_seq: 2, unread: 3 })]);
  assert.equal(l.markRead(1, 2), true); // the delivered receipt carries read_seq unchanged
  assert.equal(l.get(1)!.unread, 3);
  assert.equal(l.markRead(1, 3), false); // moved, but not to the end: the count must be refetched
  assert.equal(l.get(1)!.read_seq, 3);
  assert.equal(l.get(1)!.unread, 3);
  l.markRead(1, 4, 1);
  assert.equal(l.get(1)!.unread, 1);
});

test('titles and initials', () => {
  assert.equal(initials('Ana Lima'), 'AL');
  assert.equal(initials('bob'), 'BO');
  assert.equal(initials('x'), 'X');
  assert.equal(initials('mary_jane'), 'MJ');
  const d = summary(1, 1, 1, {
    kind: 'direct',
    title: '',
    members: [
      { user_id: ME, username: 'me', role: 'member', joined_seq: 1 },
      { user_id: 2, username: 'ana', role: 'member', joined_seq: 1 },
    ],
  });
  assert.equal(displayTitle(d, ME), 'ana');
});

test('timeline merges pages and live events in seq order without duplicates', () => {
  const t = new Timeline(1);
  t.addOlderPage([msg(1, 51), msg(1, 52), msg(1, 53)], true);
  t.add([msg(1, 54), msg(1, 53)]);
  t.addOlderPage([msg(1, 49), msg(1, 50)], false);
  t.add([msg(2, 1)]); // another conversation: ignored
  assert.deepEqual(
    t.events().map((e) => e.seq),
    [49, 50, 51, 52, 53, 54],
  );
  assert.deepEqual(t.gaps(), []);
  assert.equal(t.hasMoreBefore, false);
  assert.equal(t.oldestSeq(), 49);
  assert.equal(t.newestSeq(), 54);
});

test('rows put a day separator before each new day and the unread marker before the first unread from others', () => {
  const day1 = new Date(2026, 0, 5, 10).getTime();
  const day2 = new Date(2026, 0, 6, 9).getTime();
  const evs = [msg(1, 1, 2, day1), msg(1, 2, ME, day1 + 1000), msg(1, 3, ME, day2), msg(1, 4, 2, day2 + 1)];
  const r = rows(evs, ME, 1);
  assert.deepEqual(
    r.map((x) => (x.kind === 'event' ? x.ev.seq : x.kind)),
    ['day', 1, 2, 'day', 3, 'unread', 4],
  );
  assert.deepEqual(
    rows(evs, ME, null).filter((x) => x.kind === 'unread'),
    [],
  );
});

test('delivery state: sent, delivered, read; read by in groups', () => {
  const rec = (user_id: number, username: string, delivered_seq: number, read_seq: number) => ({ user_id, username, delivered_seq, read_seq });
  assert.equal(deliveryState(5, ME, [rec(ME, 'me', 5, 5), rec(2, 'ana', 4, 3)]).state, 'sent');
  assert.equal(deliveryState(5, ME, [rec(2, 'ana', 5, 3)]).state, 'delivered');
  assert.equal(deliveryState(5, ME, [rec(2, 'ana', 5, 5)]).state, 'read');
  const g = deliveryState(5, ME, [rec(2, 'ana', 9, 9), rec(3, 'bo', 5, 0), rec(ME, 'me', 9, 9)]);
  assert.deepEqual(g, { state: 'delivered', readBy: ['ana'] });
  assert.equal(deliveryState(5, ME, [rec(2, 'ana', 9, 9), rec(3, 'bo', 5, 6)]).state, 'read');
});

test('typing tracker shows names until stopped or expired', () => {
  const t = new TypingTracker();
  t.apply({ conv: 1, user_id: 2, username: 'ana', active: true, expires_in_ms: 6000 }, 0);
  t.apply({ conv: 1, user_id: 3, username: 'bo', active: true, expires_in_ms: 6000 }, 100);
  assert.deepEqual(t.names(1, 1000), ['ana', 'bo']);
  t.apply({ conv: 1, user_id: 2, username: 'ana', active: false }, 1000);
  assert.deepEqual(t.names(1, 1000), ['bo']);
  assert.deepEqual(t.names(1, 6100), []);
  assert.equal(typingText(['ana']), 'ana is typing…');
  assert.equal(typingText(['ana', 'bo']), 'ana and bo are typing…');
  assert.equal(typingText(['a', 'b', 'c']), '3 people are typing…');
});

test('typing sender throttles and stops once', () => {
  const s = new TypingSender(3000);
  assert.deepEqual(s.input('h', 0), { active: true });
  assert.equal(s.input('he', 1000), null);
  assert.deepEqual(s.input('hel', 3000), { active: true });
  assert.deepEqual(s.input('', 3100), { active: false });
  assert.equal(s.stop(), null);
});
