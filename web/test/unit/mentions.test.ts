import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete, completions, hasWildcard, mentionParts, mentionQuery } from '../../src/lib/mentions';
import { ConversationList, quiet } from '../../src/lib/conversations';
import { TypingTracker } from '../../src/lib/typing';
import { ChatEvent } from '../../src/lib/types';

test('the @query at the caret is found, but not in an e-mail address or after the name ended', () => {
  assert.deepEqual(mentionQuery('hi @an', 6), { start: 3, prefix: 'an' });
  assert.deepEqual(mentionQuery('@', 1), { start: 0, prefix: '' });
  assert.equal(mentionQuery('mail ana@example', 16), null);
  assert.equal(mentionQuery('hi @ana and', 11), null);
  assert.equal(mentionQuery('no at here', 5), null);
});

test('completions match username or shown name, case-insensitive; @all and @here only in groups', () => {
  const people = [
    { username: 'ana', shown: 'Ana Lima' },
    { username: 'bo', shown: 'bo' },
    { username: 'alex', shown: 'Lex' },
  ];
  assert.deepEqual(
    completions('A', people, true).map((c) => c.username),
    ['alex', 'ana', 'all'],
  );
  assert.deepEqual(
    completions('lex', people, false).map((c) => c.username),
    ['alex'],
  );
  assert.deepEqual(
    completions('h', people, false).map((c) => c.username),
    [],
  );
  assert.equal(completions('', people, true, 2).length, 2);
});

test('completing replaces the query with @username and a space, caret after it', () => {
  assert.deepEqual(complete('hi @an!', 3, 6, 'ana'), { text: 'hi @ana !', caret: 8 });
});

test('@all and @here are noticed as words only', () => {
  assert.ok(hasWildcard('@all see this'));
  assert.ok(hasWildcard('ping @here.'));
  assert.ok(!hasWildcard('@allison'));
  assert.ok(!hasWildcard('me@here.com'));
});

test('only the mentions the server resolved are highlighted; mine are marked', () => {
  const ev = { conv: 1, seq: 1, kind: 'message', sender: 2, device: 1, ts: 0, mentions: [1, 3], mention_all: true } as ChatEvent;
  const names = new Map([
    [1, 'ana'],
    [3, 'bo.b'],
  ]);
  const parts = mentionParts('@ana, ask @bo.b. and @cy; @all @here', ev, 1, (id) => names.get(id));
  assert.deepEqual(parts, [
    { text: '@ana', mention: 'user', me: true },
    { text: ', ask ' },
    { text: '@bo.b', mention: 'user', me: false },
    { text: '. and @cy; ' },
    { text: '@all', mention: 'all', me: true },
    { text: ' @here' },
  ]);
  assert.deepEqual(mentionParts('plain @ana', { ...ev, mentions: [], mention_all: false }, 1, (id) => names.get(id)), [{ text: 'plain @ana' }]);
});

test('unread mentions count messages from others that mention me, and clear with the read pointer', () => {
  const l = new ConversationList(1);
  l.upsert([{ conv: 5, kind: 'group', title: 'g', last_seq: 1, last_ts: 1, read_seq: 1, unread: 0, role: 'member', last_message: null }]);
  const m = (seq: number, extra: Partial<ChatEvent>, sender = 2): ChatEvent => ({ conv: 5, seq, kind: 'message', sender, device: 1, ts: seq, text: 'x', ...extra });
  l.apply(m(2, { mentions: [1] }));
  l.apply(m(3, { mentions: [3] }));
  l.apply(m(4, { mention_here: true }));
  l.apply(m(5, { mention_all: true }, 1)); // my own @all is not a mention of me
  // My own message moved my read pointer (a send reads the conversation): all cleared.
  assert.equal(l.get(5)!.unread_mentions, 0);
  l.apply(m(6, { mentions: [1] }));
  l.apply(m(7, { mention_all: true }));
  assert.equal(l.get(5)!.unread_mentions, 2);
  assert.equal(l.markRead(5, 6, 1), false, 'a partial read leaves the mention count to the server');
  assert.equal(l.markRead(5, 7), true);
  assert.equal(l.get(5)!.unread_mentions, 0);
});

test('conversations set to notify none, or muted until later, do not count toward the total unread', () => {
  const l = new ConversationList(1);
  const base = { kind: 'group' as const, title: 'g', last_seq: 9, last_ts: 1, read_seq: 0, role: 'member' as const, last_message: null };
  l.upsert([
    { ...base, conv: 1, unread: 2 },
    { ...base, conv: 2, unread: 3, notify: 'none' },
    { ...base, conv: 3, unread: 4, muted_until: 5000 },
    { ...base, conv: 4, unread: 5, notify: 'mentions' },
  ]);
  l.get(4)!.unread_mentions = 1;
  assert.equal(l.totalUnread(1000), 2 + 1, 'muted until 5000: not counted at 1000; "mentions" counts its mentions');
  assert.equal(l.totalUnread(6000), 2 + 4 + 1, 'the mute has ended at 6000');
  assert.equal(quiet(l.get(3)!, 1000), true);
  assert.equal(quiet(l.get(3)!, 6000), false);
});

test('typing in a thread is shown in that thread only, and moving replaces the earlier place', () => {
  const t = new TypingTracker();
  t.apply({ conv: 1, user_id: 2, username: 'bo', active: true }, 0);
  t.apply({ conv: 1, user_id: 3, username: 'cy', active: true, thread: 9 }, 0);
  assert.deepEqual(t.names(1, 10), ['bo']);
  assert.deepEqual(t.names(1, 10, 9), ['cy']);
  assert.deepEqual(t.names(1, 10, 8), []);
  t.apply({ conv: 1, user_id: 2, username: 'bo', active: true, thread: 9 }, 20); // bo moves into the thread
  assert.deepEqual(t.names(1, 30), []);
  assert.deepEqual(t.names(1, 30, 9), ['cy', 'bo']);
  t.apply({ conv: 1, user_id: 3, username: 'cy', active: false }, 40);
  assert.deepEqual(t.names(1, 50, 9), ['bo']);
});
