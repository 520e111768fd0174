import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpApi } from '../../src/lib/api';
import { ChatClient, MAX_TEXT_BYTES } from '../../src/lib/client';
import { MemoryKV } from '../../src/lib/kv';
import { ApiError } from '../../src/lib/types';
import { FakeSocket, flush, ManualClock } from './fakes';

function setup(kv = new MemoryKV(), answers: Record<string, () => Promise<unknown>> = {}) {
  const clock = new ManualClock();
  const sockets: FakeSocket[] = [];
  const calls: string[] = [];
  const http = new HttpApi('', async (url) => {
    const op = url.split('/').pop()!;
    calls.push(op);
    const body = answers[op] ? await answers[op]() : op === 'conversations' ? { conversations: [], next: null } : { ok: true };
    return { status: 200, text: async () => JSON.stringify(body) };
  });
  let n = 0;
  const c = new ChatClient(
    { token: 'T', user_id: 1, username: 'me', device_id: 4 },
    {
      http,
      wsUrl: 'ws://x',
      kv,
      makeSocket: (u) => {
        const s = new FakeSocket(u);
        sockets.push(s);
        return s;
      },
      now: clock.now,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      randomBytes: (k) => new Uint8Array(k).fill(++n),
    },
  );
  return { c, clock, sockets, kv, calls };
}

function goLive(s: FakeSocket, since = 0) {
  s.open();
  s.receive({ type: 'result', id: s.sent[0].id, data: { since, head: since } });
  s.receive({ type: 'synced', pos: since });
}

const sends = (s: FakeSocket) => s.sent.filter((f) => f.op === 'send');

test('a message written offline is queued and sent on reconnect with its client_id, once', async () => {
  const t = setup();
  t.c.start();
  t.sockets[0].drop(); // offline before ever being live
  const entry = t.c.send(7, 'hello');
  assert.equal(t.c.pendingFor(7)[0].entry.client_id, entry.client_id);
  assert.deepEqual(JSON.parse(t.kv.get('confab.d4.outbox')!)[0].client_id, entry.client_id);
  t.clock.advance(30000);
  const s = t.sockets[1];
  goLive(s);
  await flush();
  assert.equal(sends(s).length, 1);
  assert.equal(sends(s)[0].client_id, entry.client_id);
  s.receive({ type: 'result', id: sends(s)[0].id, data: { conv: 7, seq: 3, ts: 1, duplicate: false } });
  await flush();
  assert.deepEqual(t.c.outbox.entries(), []);
  assert.equal(t.c.pendingFor(7)[0].seq, 3, 'acked, shown as sent until its event arrives');
});

test('a send whose reply was lost is retried with the same client_id after reconnecting', async () => {
  const t = setup();
  t.c.start();
  goLive(t.sockets[0]);
  const entry = t.c.send(7, 'hello');
  await flush();
  assert.equal(sends(t.sockets[0]).length, 1);
  t.sockets[0].drop(1006); // no reply: the outcome is unknown
  await flush();
  assert.equal(t.c.outbox.pending().length, 1);
  t.clock.advance(30000);
  goLive(t.sockets[1]);
  await flush();
  const retry = sends(t.sockets[1]);
  assert.equal(retry.length, 1);
  assert.equal(retry[0].client_id, entry.client_id);
  t.sockets[1].receive({ type: 'result', id: retry[0].id, data: { conv: 7, seq: 3, ts: 1, duplicate: true } });
  await flush();
  assert.equal(t.c.outbox.pending().length, 0);
});

test('outbox entries are sent in creation order after a reload', async () => {
  const kv = new MemoryKV();
  const first = setup(kv);
  first.c.start();
  first.c.send(1, 'a');
  first.c.send(2, 'b');
  first.c.stop();
  const t = setup(kv); // the page was reloaded
  t.c.start();
  goLive(t.sockets[0]);
  await flush();
  const s = t.sockets[0];
  assert.deepEqual(
    sends(s).map((f) => f.text),
    ['a'],
    'one in flight at a time keeps order',
  );
  s.receive({ type: 'result', id: sends(s)[0].id, data: { conv: 1, seq: 1 } });
  await flush();
  assert.deepEqual(
    sends(s).map((f) => f.text),
    ['a', 'b'],
  );
});

test('a final error marks the entry failed and stops retrying it', async () => {
  const t = setup();
  t.c.start();
  goLive(t.sockets[0]);
  const e = t.c.send(7, 'x');
  await flush();
  const s = t.sockets[0];
  s.receive({ type: 'error', id: sends(s)[0].id, error: { code: 'forbidden', message: 'not a member', retryable: false } });
  await flush();
  assert.deepEqual(t.c.outbox.entries()[0].failed, { code: 'forbidden', message: 'not a member' });
  assert.equal(t.c.outbox.pending().length, 0);
  t.c.discard(e.client_id);
  assert.deepEqual(t.c.outbox.entries(), []);
});

test('empty and too-long messages are refused with a clear typed error and not queued', () => {
  const t = setup();
  assert.throws(() => t.c.send(1, '   '), (e: ApiError) => e.code === 'empty');
  assert.throws(
    () => t.c.send(1, 'é'.repeat(MAX_TEXT_BYTES / 2 + 1)),
    (e: ApiError) => e.code === 'text_too_long' && /limit is 16384/.test(e.message),
  );
  assert.deepEqual(t.c.outbox.entries(), []);
});

test('stream events update the list and an open timeline once each', async () => {
  const t = setup();
  t.c.start();
  goLive(t.sockets[0]);
  await flush();
  t.c.convs.upsert([{ conv: 7, kind: 'group', title: 'g', last_seq: 0, last_ts: 0, read_seq: 0, unread: 0, role: 'member', last_message: null }]);
  const ev = { conv: 7, seq: 1, kind: 'message', sender: 2, device: 9, ts: 5, text: 'hi' };
  t.sockets[0].receive({ type: 'event', pos: 1, event: ev });
  t.sockets[0].receive({ type: 'event', pos: 1, event: ev });
  assert.equal(t.c.convs.get(7)!.unread, 1);
  assert.equal(t.c.pos, 1);
});

test('my event arriving before its ack leaves nothing pending', async () => {
  const t = setup();
  t.c.start();
  goLive(t.sockets[0]);
  await flush();
  t.c.convs.upsert([{ conv: 7, kind: 'group', title: 'g', last_seq: 0, last_ts: 0, read_seq: 0, unread: 0, role: 'owner', last_message: null }]);
  const e = t.c.send(7, 'hi');
  await flush();
  const s = t.sockets[0];
  s.receive({ type: 'event', pos: 1, event: { conv: 7, seq: 1, kind: 'message', sender: 1, device: 4, ts: 5, text: 'hi', client_id: e.client_id } });
  s.receive({ type: 'result', id: sends(s)[0].id, data: { conv: 7, seq: 1, ts: 5, duplicate: false } });
  await flush();
  assert.deepEqual(t.c.pendingFor(7), []);
});

test('signing out forgets the cursor and the unsent messages', async () => {
  const t = setup();
  t.c.start();
  t.c.send(7, 'unsent');
  t.kv.set('confab.d4.pos', '3');
  await t.c.logout();
  assert.equal(t.kv.get('confab.d4.pos'), null);
  assert.equal(t.kv.get('confab.d4.outbox'), null);
  assert.ok(t.calls.includes('logout'));
});

test('a delivery receipt (read pointer unchanged) keeps the unread count; a read elsewhere clears it', async () => {
  const t = setup();
  t.c.start();
  goLive(t.sockets[0]);
  await flush();
  t.c.convs.upsert([{ conv: 5, kind: 'direct', title: '', last_seq: 4, last_ts: 1, read_seq: 1, unread: 3, role: 'member', last_message: null }]);
  t.sockets[0].receive({ type: 'receipt', conv: 5, user_id: 1, delivered_seq: 4, read_seq: 1 });
  assert.equal(t.c.convs.get(5)!.unread, 3);
  t.sockets[0].receive({ type: 'receipt', conv: 5, user_id: 1, delivered_seq: 4, read_seq: 4 });
  assert.equal(t.c.convs.get(5)!.unread, 0);
});

test('events of a new conversation that arrive while its summary is fetched are counted once it comes', async () => {
  // The summary was read when 'two' was the latest; 'three' arrived on the WebSocket before it.
  let answer: (v: unknown) => void = () => {};
  const summary = new Promise((r) => (answer = r));
  const t = setup(new MemoryKV(), { conversation: () => summary });
  t.c.start();
  goLive(t.sockets[0]);
  await flush();
  const s = t.sockets[0];
  s.receive({ type: 'event', pos: 1, event: { conv: 9, seq: 1, kind: 'created', sender: 2, device: 8, ts: 1, data: { kind: 'direct' } } });
  ['one', 'two', 'three'].forEach((text, i) =>
    s.receive({ type: 'event', pos: 2 + i, event: { conv: 9, seq: 2 + i, kind: 'message', sender: 2, device: 8, ts: 2 + i, text } }),
  );
  assert.equal(t.calls.filter((c) => c === 'conversation').length, 1, 'one fetch for the new conversation');
  answer({ conv: 9, kind: 'direct', title: '', last_seq: 3, last_ts: 3, read_seq: 1, unread: 2, role: 'member', last_message: null });
  await flush();
  assert.equal(t.c.convs.get(9)!.unread, 3);
  assert.equal(t.c.convs.get(9)!.last_seq, 4);
  s.receive({ type: 'event', pos: 5, event: { conv: 9, seq: 5, kind: 'message', sender: 2, device: 8, ts: 6, text: 'four' } });
  assert.equal(t.c.convs.get(9)!.unread, 4, 'later events apply as usual');
});

test('drafts are kept per conversation in the browser and removed on sign-out', async () => {
  const t = setup();
  t.c.setDraft(1, 'one');
  t.c.setDraft(2, 'two');
  assert.equal(t.c.draft(1), 'one');
  assert.equal(t.c.draft(2), 'two');
  t.c.setDraft(1, '');
  assert.equal(t.c.draft(1), '');
  await t.c.logout();
  assert.equal(t.kv.get('confab.d4.drafts'), null);
});
