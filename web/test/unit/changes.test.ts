import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applied, isChange } from '../../src/lib/changes';
import { ConversationList } from '../../src/lib/conversations';
import { rows, Timeline } from '../../src/lib/timeline';
import { ChatEvent } from '../../src/lib/types';

const ME = 1;
const msg = (seq: number, sender = 2, extra: Partial<ChatEvent> = {}): ChatEvent => ({ conv: 7, seq, kind: 'message', sender, device: 5, ts: 1000 * seq, text: `m${seq}`, ...extra });
const reaction = (seq: number, target: number, emoji: string, added: boolean, count: number, sender = 2): ChatEvent => ({
  conv: 7, seq, kind: 'reaction', sender, device: 5, ts: 1000 * seq, data: { target, emoji, added, count },
});
const edited = (seq: number, target: number, text: string): ChatEvent => ({ conv: 7, seq, kind: 'edited', sender: 2, device: 5, ts: 1000 * seq, data: { target, text } });
const deleted = (seq: number, target: number): ChatEvent => ({ conv: 7, seq, kind: 'deleted', sender: 2, device: 5, ts: 1000 * seq, data: { target, by: 2 } });

test('reaction events set the emoji count they carry and my part in it; a new emoji goes last', () => {
  let m = msg(1);
  m = applied(m, reaction(2, 1, '👍', true, 1), ME);
  m = applied(m, reaction(3, 1, '👍', true, 2, ME), ME);
  m = applied(m, reaction(4, 1, '🎉', true, 1), ME);
  assert.deepEqual(m.reactions, [
    { emoji: '👍', count: 2, me: true },
    { emoji: '🎉', count: 1, me: false },
  ]);
  m = applied(m, reaction(5, 1, '👍', false, 1, ME), ME);
  m = applied(m, reaction(6, 1, '🎉', false, 0), ME);
  assert.deepEqual(m.reactions, [{ emoji: '👍', count: 1, me: false }]);
  // 👍 drops to none and comes back: it reappears after 🎉.
  m = applied(m, reaction(7, 1, '🎉', true, 1), ME);
  m = applied(m, reaction(8, 1, '👍', false, 0), ME);
  m = applied(m, reaction(9, 1, '👍', true, 1), ME);
  assert.deepEqual(m.reactions?.map((r) => r.emoji), ['🎉', '👍']);
});

test('applying a reaction event again changes nothing: the last one wins', () => {
  const current = msg(1, 2, { reactions: [{ emoji: '👍', count: 2, me: true }] });
  // The stream repeats events that history's state already reflects, in order.
  let m = applied(current, reaction(2, 1, '👍', true, 1), ME);
  m = applied(m, reaction(3, 1, '👍', true, 2, ME), ME);
  assert.deepEqual(m.reactions, current.reactions);
});

test('edits replace the text with the time of the edit; a delete erases text and reactions for good', () => {
  let m = applied(msg(1), edited(2, 1, 'fixed'), ME);
  assert.equal(m.text, 'fixed');
  assert.equal(m.edited_ts, 2000);
  m = applied(m, reaction(3, 1, '👍', true, 1), ME);
  m = applied(m, deleted(4, 1), ME);
  assert.equal(m.deleted, true);
  assert.equal(m.text, '');
  assert.equal(m.reactions, undefined);
  assert.equal(m.edited_ts, undefined);
  // Nothing brings the text back.
  m = applied(m, edited(5, 1, 'late edit'), ME);
  assert.equal(m.text, '');
});

test('a timeline applies live changes to held messages, never history\'s (already reflected), and shows no rows for them', () => {
  const t = new Timeline(7, ME);
  // History: the message as it is now (edited, one reaction), with the events that changed it.
  t.add([msg(1, 2, { text: 'v3', edited_ts: 4000, reactions: [{ emoji: '👍', count: 1, me: false }] }), edited(3, 1, 'v2'), reaction(2, 1, '👍', true, 1), edited(4, 1, 'v3')]);
  assert.equal(t.get(1)!.text, 'v3', 'an older edit in the page does not win');
  t.addLive(edited(4, 1, 'v3')); // the stream repeats one: held, nothing changes
  t.addLive(reaction(5, 1, '👍', true, 2, ME));
  assert.deepEqual(t.get(1)!.reactions, [{ emoji: '👍', count: 2, me: true }]);
  assert.deepEqual(t.gaps(), []);
  const shown = rows(t.events(), ME, null).filter((r) => r.kind === 'event');
  assert.equal(shown.length, 1, 'only the message is a row');
  assert.ok(isChange(reaction(9, 1, 'x', true, 1)) && !isChange(msg(9)));
});

test('a timeline opened at its first unread applies a change to a held message without holding the change', () => {
  const t = new Timeline(7, ME);
  t.add([msg(1), msg(2)]);
  assert.equal(t.applyChange(edited(40, 2, 'later')), true);
  assert.equal(t.get(2)!.text, 'later');
  assert.equal(t.get(40), undefined);
  assert.equal(t.applyChange(edited(41, 99, 'not held')), false);
});

test('the conversation list preview follows an edit or delete of the last message; a reaction is not unread', () => {
  const l = new ConversationList(ME);
  l.upsert([{ conv: 7, kind: 'group', title: 'g', last_seq: 1, last_ts: 1000, read_seq: 1, unread: 0, role: 'member', last_message: msg(1) }]);
  l.apply(edited(2, 1, 'changed'));
  assert.equal(l.get(7)!.last_message!.text, 'changed');
  l.apply(reaction(3, 1, '👍', true, 1));
  assert.equal(l.get(7)!.unread, 0);
  l.apply(deleted(4, 1));
  assert.equal(l.get(7)!.last_message!.deleted, true);
});

test('a thread reply moves its root summary on (count, last time, recent participants, follow, unread) and is not a row', () => {
  const reply = (seq: number, sender: number, extra: Partial<ChatEvent> = {}): ChatEvent => ({ ...msg(seq, sender), thread_root: 1, ...extra });
  const t = new Timeline(7, ME);
  t.add([msg(1, 3)]); // someone else's root
  for (const r of [reply(2, 2), reply(3, 4), reply(4, 5)]) t.addLive(r);
  let th = t.get(1)!.thread!;
  assert.deepEqual(
    { ...th },
    { replies: 3, last_ts: 4000, last_seq: 4, participants: [5, 4, 2], following: false, unread: 0 },
    'not following: others’ replies are not unread for me',
  );
  t.addLive(reply(5, 6, { mentions: [ME] })); // mentioned: now following
  t.addLive(reply(6, 2));
  th = t.get(1)!.thread!;
  assert.equal(th.following, true);
  assert.equal(th.unread, 2);
  assert.deepEqual(th.participants, [2, 6, 5]);
  t.addLive(reply(7, ME)); // my reply: I have read the thread
  assert.equal(t.get(1)!.thread!.unread, 0);
  t.addLive(reply(8, 2, { also_in_conversation: true }));
  const shown = rows(t.events(), ME, null).filter((r) => r.kind === 'event').map((r) => (r.kind === 'event' ? r.ev.seq : 0));
  assert.deepEqual(shown, [1, 8], 'the root and the reply also sent to the conversation');
  assert.equal(t.get(1)!.thread!.replies, 7);
  // A root from history counts replies up to its last_seq: those are not counted again.
  const h = new Timeline(7, ME);
  h.add([msg(1, 3, { thread: { replies: 2, last_ts: 3000, last_seq: 3, participants: [4, 2], following: true, unread: 1 } })]);
  h.addLive(reply(3, 4));
  h.addLive(reply(9, 2));
  assert.equal(h.get(1)!.thread!.replies, 3);
  assert.equal(h.get(1)!.thread!.unread, 2);
});

test('a reply only in its thread is not the conversation preview nor unread there', () => {
  const l = new ConversationList(ME);
  l.upsert([{ conv: 7, kind: 'group', title: 'g', last_seq: 1, last_ts: 1000, read_seq: 1, unread: 0, role: 'member', last_message: msg(1) }]);
  l.apply({ ...msg(2), thread_root: 1 });
  assert.equal(l.get(7)!.unread, 0);
  assert.equal(l.get(7)!.last_message!.seq, 1);
  l.apply({ ...msg(3), thread_root: 1, also_in_conversation: true });
  assert.equal(l.get(7)!.unread, 1);
  assert.equal(l.get(7)!.last_message!.seq, 3);
});
