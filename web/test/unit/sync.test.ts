import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKV } from '../../src/lib/kv';
import { Status, SyncClient } from '../../src/lib/sync';
import { ApiError, ChatEvent } from '../../src/lib/types';
import { FakeSocket, ManualClock } from './fakes';

function ev(conv: number, seq: number): ChatEvent {
  return { conv, seq, kind: 'message', sender: 2, device: 9, ts: 1, text: `m${seq}` };
}

function setup(kv = new MemoryKV(), pingEveryMs?: number, connectTimeoutMs?: number) {
  const clock = new ManualClock();
  const sockets: FakeSocket[] = [];
  const applied: [number, number, number][] = [];
  const statuses: Status[] = [];
  let resets = 0;
  const sync = new SyncClient({
    url: 'ws://x/v1/ws',
    token: 'T',
    deviceId: 3,
    kv,
    makeSocket: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    pingEveryMs,
    connectTimeoutMs,
    handlers: {
      event: (e, pos) => applied.push([pos, e.conv, e.seq]),
      status: (s) => statuses.push(s),
      cursorReset: () => resets++,
    },
  });
  return { sync, clock, sockets, applied, statuses, kv, resets: () => resets };
}

test('a fresh device says hello without since and stores the head it starts from', () => {
  const t = setup();
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  assert.deepEqual(s.sent[0], { op: 'hello', id: 1, token: 'T' });
  s.receive({ type: 'result', id: 1, data: { since: 40, head: 40 } });
  s.receive({ type: 'synced', pos: 40 });
  assert.equal(t.sync.status, 'live');
  assert.equal(t.kv.get('confab.d3.pos'), '40');
});

test('resumes with the stored pos and persists each processed pos', () => {
  const kv = new MemoryKV();
  kv.set('confab.d3.pos', '7');
  const t = setup(kv);
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  assert.equal(s.sent[0].since, 7);
  s.receive({ type: 'result', id: 1, data: { since: 7, head: 9 } });
  s.receive({ type: 'event', pos: 8, event: ev(1, 4) });
  assert.equal(kv.get('confab.d3.pos'), '8');
  s.receive({ type: 'event', pos: 9, event: ev(1, 5) });
  s.receive({ type: 'synced', pos: 9 });
  assert.deepEqual(t.applied, [
    [8, 1, 4],
    [9, 1, 5],
  ]);
  assert.equal(kv.get('confab.d3.pos'), '9');
});

test('events at or below the processed pos are ignored (deduplicated by pos)', () => {
  const kv = new MemoryKV();
  kv.set('confab.d3.pos', '5');
  const t = setup(kv);
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  s.receive({ type: 'result', id: 1, data: { since: 5, head: 6 } });
  s.receive({ type: 'event', pos: 5, event: ev(1, 1) });
  s.receive({ type: 'event', pos: 6, event: ev(1, 2) });
  s.receive({ type: 'event', pos: 6, event: ev(1, 2) });
  assert.deepEqual(t.applied, [[6, 1, 2]]);
});

test('after a drop it reconnects with backoff and resumes from the last processed pos', () => {
  const t = setup();
  t.sync.start();
  let s = t.sockets[0];
  s.open();
  s.receive({ type: 'result', id: 1, data: { since: 0, head: 0 } });
  s.receive({ type: 'synced', pos: 0 });
  s.receive({ type: 'event', pos: 1, event: ev(1, 1) });
  s.drop(1006);
  assert.equal(t.sync.status, 'offline');
  assert.equal(t.sockets.length, 1);
  t.clock.advance(30000);
  assert.equal(t.sockets.length, 2);
  s = t.sockets[1];
  s.open();
  assert.equal(s.sent[0].since, 1);
  s.receive({ type: 'result', id: s.sent[0].id, data: { since: 1, head: 2 } });
  s.receive({ type: 'event', pos: 2, event: ev(1, 2) });
  s.receive({ type: 'synced', pos: 2 });
  assert.deepEqual(
    t.applied.map((a) => a[0]),
    [1, 2],
  );
  assert.deepEqual(t.statuses.slice(-3), ['connecting', 'syncing', 'live']);
});

test('requests are matched to replies by id; a drop rejects them as retryable', async () => {
  const t = setup();
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  s.receive({ type: 'result', id: 1, data: { since: 0, head: 0 } });
  s.receive({ type: 'synced', pos: 0 });
  const a = t.sync.request('send', { conv: 1, client_id: 'c1', text: 'x' });
  const b = t.sync.request('send', { conv: 1, client_id: 'c2', text: 'y' });
  const [ia, ib] = [s.sent[1].id, s.sent[2].id];
  s.receive({ type: 'error', id: ib, error: { code: 'forbidden', message: 'no', retryable: false } });
  s.receive({ type: 'result', id: ia, data: { seq: 4 } });
  assert.deepEqual(await a, { seq: 4 });
  await assert.rejects(b, (e: ApiError) => e.code === 'forbidden' && !e.retryable);
  const c = t.sync.request('send', { conv: 1, client_id: 'c3', text: 'z' });
  s.drop(1001, 'server shutting down');
  await assert.rejects(c, (e: ApiError) => e.code === 'disconnected' && e.retryable);
});

test('requests before the session is live fail fast instead of queueing', async () => {
  const t = setup();
  t.sync.start();
  await assert.rejects(t.sync.request('typing', { conv: 1 }), (e: ApiError) => e.code === 'disconnected');
});

test('close 4001 means the device was revoked: no reconnect', () => {
  const t = setup();
  t.sync.start();
  t.sockets[0].open();
  t.sockets[0].drop(4001, 'device revoked');
  assert.equal(t.sync.status, 'revoked');
  t.clock.advance(120000);
  assert.equal(t.sockets.length, 1);
});

test('an unauthenticated hello means the token is dead', () => {
  const t = setup();
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  s.receive({ type: 'error', id: 1, error: { code: 'unauthenticated', message: 'x', retryable: false } });
  assert.equal(t.sync.status, 'revoked');
  t.clock.advance(120000);
  assert.equal(t.sockets.length, 1);
});

test('an invalid cursor discards the stored pos and starts fresh', () => {
  const kv = new MemoryKV();
  kv.set('confab.d3.pos', '99');
  const t = setup(kv);
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  s.receive({ type: 'error', id: 1, error: { code: 'invalid_field', message: 'since is ahead', retryable: false } });
  assert.equal(kv.get('confab.d3.pos'), null);
  assert.equal(t.resets(), 1);
  t.clock.advance(30000);
  const s2 = t.sockets[1];
  s2.open();
  assert.equal('since' in s2.sent[0], false);
});

test('backoff grows between failed attempts', () => {
  const t = setup();
  t.sync.start();
  t.sockets[0].drop();
  t.clock.advance(350);
  assert.equal(t.sockets.length, 1, 'first retry waits 375 ms here');
  t.clock.advance(100);
  assert.equal(t.sockets.length, 2);
  t.sockets[1].drop();
  t.clock.advance(600);
  assert.equal(t.sockets.length, 2, 'second retry waits longer than the first');
  t.clock.advance(400);
  assert.equal(t.sockets.length, 3);
});

test('live-only frames go to the ephemeral handler', () => {
  const got: unknown[] = [];
  const clock = new ManualClock();
  let sock!: FakeSocket;
  const sync = new SyncClient({
    url: 'u',
    token: 'T',
    deviceId: 1,
    kv: new MemoryKV(),
    makeSocket: (u) => (sock = new FakeSocket(u)),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    handlers: { event: () => {}, ephemeral: (f) => got.push(f) },
  });
  sync.start();
  sock.open();
  sock.receive({ type: 'result', id: 1, data: { since: 0, head: 0 } });
  sock.receive({ type: 'typing', conv: 1, user_id: 2, username: 'ana', active: true });
  assert.deepEqual(got, [{ type: 'typing', conv: 1, user_id: 2, username: 'ana', active: true }]);
});

test('an idle live connection is probed with ping; no reply recycles it', () => {
  const t = setup(new MemoryKV(), 1000);
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  s.receive({ type: 'result', id: 1, data: { since: 0, head: 0 } });
  s.receive({ type: 'synced', pos: 0 });
  // Traffic within the interval: no ping.
  t.clock.advance(600);
  s.receive({ type: 'presence', user_id: 2, online: true, last_seen_ts: null });
  t.clock.advance(500);
  assert.equal(s.sent.filter((f) => f.op === 'ping').length, 0);
  // Silence for a whole interval: a ping, and a reply keeps the connection.
  t.clock.advance(1000);
  const ping = s.sent.filter((f) => f.op === 'ping');
  assert.equal(ping.length, 1);
  s.receive({ type: 'result', id: ping[0].id, data: { pong: true } });
  t.clock.advance(900);
  assert.equal(t.sync.status, 'live');
  // Silence again, and the ping is never answered: the socket is dropped, status offline.
  t.clock.advance(1100);
  assert.equal(s.sent.filter((f) => f.op === 'ping').length, 2);
  t.clock.advance(1000);
  assert.equal(t.sync.status, 'offline');
  assert.equal(s.closed?.code, 4000);
});

test('the browser reporting the network gone drops the socket at once', () => {
  const t = setup();
  t.sync.start();
  const s = t.sockets[0];
  s.open();
  s.receive({ type: 'result', id: 1, data: { since: 0, head: 0 } });
  s.receive({ type: 'synced', pos: 0 });
  t.sync.networkLost();
  assert.equal(t.sync.status, 'offline');
  assert.ok(s.closed);
});

test('a connection attempt that gets no hello reply is given up and retried', () => {
  const t = setup(new MemoryKV(), undefined, 2000);
  t.sync.start();
  // The socket never opens (a cut network can hold the attempt open without an answer).
  t.clock.advance(1999);
  assert.equal(t.sync.status, 'connecting');
  t.clock.advance(1);
  assert.equal(t.sync.status, 'offline');
  assert.ok(t.sockets[0].closed, 'the hung attempt is closed');
  t.clock.advance(500);
  assert.equal(t.sockets.length, 2, 'and retried after the backoff');
  // Opened, but the hello is never answered: the same.
  t.sockets[1].open();
  t.clock.advance(2000);
  assert.equal(t.sync.status, 'offline');
  // An answered hello within the time: no timeout later, even while catching up.
  t.clock.advance(1000);
  const s = t.sockets[2];
  s.open();
  s.receive({ type: 'result', id: s.sent[0].id, data: { since: 0, head: 0 } });
  t.clock.advance(5000);
  assert.equal(t.sync.status, 'syncing');
  assert.equal(s.closed, null);
});
