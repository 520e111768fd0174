// The per-channel cursor algorithm (docs/protocol.md section 10, "Channels"), against a fake
// channel log: every event applied once, in seq order, whatever the frames' order, duplicates and
// gaps; resume fills only the channels that moved.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelCursors, ChannelHead } from '../../src/lib/channels';
import { MemoryKV } from '../../src/lib/kv';
import { ApiError, ChatEvent } from '../../src/lib/types';

function ev(conv: number, seq: number): ChatEvent {
  return { conv, seq, kind: 'message', sender: 2, device: 9, ts: seq, text: `m${seq}` };
}

// A server holding each channel's log; history answers pages of at most `limit` after `after`.
function setup(kv = new MemoryKV()) {
  const logs = new Map<number, ChatEvent[]>();
  const applied: [number, number][] = [];
  let historyCalls = 0;
  let headsCalls = 0;
  let failNext: ApiError | null = null;
  const retries: (() => void)[] = [];
  const add = (conv: number, n: number) => {
    const log = logs.get(conv) ?? [];
    for (let i = 0; i < n; i++) log.push(ev(conv, log.length + 1));
    logs.set(conv, log);
    return log[log.length - 1];
  };
  const cursors = new ChannelCursors(kv, 7, {
    history: async ({ conv, after, limit }) => {
      historyCalls++;
      if (failNext) {
        const e = failNext;
        failNext = null;
        throw e;
      }
      const log = logs.get(conv) ?? [];
      const events = log.filter((e) => e.seq > after).slice(0, limit);
      return { events, has_more: log.filter((e) => e.seq > after).length > limit };
    },
    heads: async ({ after_conv }) => {
      headsCalls++;
      const heads: ChannelHead[] = [...logs.entries()]
        .filter(([conv]) => after_conv === undefined || conv > after_conv)
        .sort((a, b) => a[0] - b[0])
        .map(([conv, log]) => ({ conv, last_seq: log.length, read_seq: 0, joined_seq: 1 }));
      const page = heads.slice(0, 2); // small pages: the paging is exercised
      return { heads: page, next: heads.length > 2 ? { after_conv: page[page.length - 1].conv } : null };
    },
    apply: (e) => applied.push([e.conv, e.seq]),
    setTimeout: (fn) => retries.push(fn),
  });
  return {
    cursors,
    logs,
    add,
    applied,
    kv,
    retries,
    history: () => historyCalls,
    heads: () => headsCalls,
    failWith: (e: ApiError) => (failNext = e),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

function inOrder(applied: [number, number][], conv: number, from: number, to: number) {
  const seqs = applied.filter(([c]) => c === conv).map(([, s]) => s);
  assert.deepEqual(seqs, Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

test('frames in order are applied at once; duplicates and frames of untracked channels are ignored', async () => {
  const t = setup();
  t.add(21, 5);
  t.cursors.track(21, 5); // joined at seq 5: nothing newer yet
  await settle();
  for (let i = 0; i < 3; i++) {
    const e = t.add(21, 1); // committed, then its frame
    t.cursors.onFrame(21, e.seq, e);
  }
  const calls = t.history();
  t.cursors.onFrame(21, 7, ev(21, 7)); // a repeat
  t.cursors.onFrame(99, 1, ev(99, 1)); // not my channel
  await settle();
  inOrder(t.applied, 21, 6, 8);
  assert.equal(t.history(), calls, 'neither a repeat nor a stranger reads the log');
  assert.equal(t.cursors.cursor(21), 8);
  assert.equal(t.applied.filter(([c]) => c === 99).length, 0);
});

test('a gap is filled from the log, in order, and the frame that revealed it is not applied twice', async () => {
  const t = setup();
  t.add(21, 1);
  t.cursors.track(21, 1);
  await settle();
  t.add(21, 250); // 2..251 committed; only the last frame arrives
  t.cursors.onFrame(21, 251, ev(21, 251));
  await settle();
  await settle();
  inOrder(t.applied, 21, 2, 251);
  assert.equal(t.cursors.cursor(21), 251);
  assert.ok(t.history() >= 3, 'pages of 100');
});

test('frames arriving during a fill are applied once, by the fill or after it', async () => {
  const t = setup();
  t.add(21, 1);
  t.cursors.track(21, 1);
  await settle();
  t.add(21, 3);
  t.cursors.onFrame(21, 4, ev(21, 4)); // gap: a fill starts
  t.add(21, 1);
  t.cursors.onFrame(21, 5, ev(21, 5)); // during the fill
  t.cursors.onFrame(21, 3, ev(21, 3));
  for (let i = 0; i < 5; i++) await settle();
  inOrder(t.applied, 21, 2, 5);
});

test('the next frame arriving while a fill reads the log is applied once', async () => {
  const t = setup();
  t.add(21, 1);
  t.cursors.track(21, 1);
  await settle();
  t.add(21, 2); // 2 and 3 committed; 3's frame overtakes 2's (another node)
  t.cursors.onFrame(21, 3, ev(21, 3)); // a gap: the fill's read is in flight
  t.cursors.onFrame(21, 2, ev(21, 2)); // the missing frame arrives meanwhile
  for (let i = 0; i < 4; i++) await settle();
  inOrder(t.applied, 21, 2, 3);
});

test('joining tracks from the join seq; leaving stops applying; the cursors survive a reload', async () => {
  const kv = new MemoryKV();
  const t = setup(kv);
  t.add(21, 10);
  t.cursors.track(21, 4); // joined at 4: 5..10 are filled at once
  for (let i = 0; i < 3; i++) await settle();
  inOrder(t.applied, 21, 5, 10);
  const again = setup(kv);
  assert.equal(again.cursors.cursor(21), 10);
  again.cursors.untrack(21);
  again.cursors.onFrame(21, 11, ev(21, 11));
  await settle();
  assert.equal(again.applied.length, 0);
  assert.equal(setup(kv).cursors.cursor(21), undefined);
});

test('resume pages the heads and fills only the channels that moved', async () => {
  const t = setup();
  for (const conv of [1, 2, 3, 4, 5]) {
    t.add(conv, 3);
    t.cursors.track(conv, 3);
  }
  for (let i = 0; i < 3; i++) await settle();
  const before = t.history();
  t.add(2, 4);
  t.add(5, 1);
  await t.cursors.resume();
  for (let i = 0; i < 3; i++) await settle();
  assert.equal(t.heads(), 3, 'five heads in pages of two');
  inOrder(t.applied, 2, 4, 7);
  inOrder(t.applied, 5, 4, 4);
  assert.equal(t.history() - before, 2, 'one history call per moved channel');
});

test('a fresh device starts untracked channels at their heads; a device with cursors ignores them', async () => {
  const t = setup();
  t.add(8, 40);
  await t.cursors.resume(false);
  assert.equal(t.cursors.cursor(8), undefined);
  await t.cursors.resume(true);
  assert.equal(t.cursors.cursor(8), 40);
  assert.equal(t.applied.length, 0, 'older events are history, not replayed');
});

test('a fill that fails with unavailable is retried; forbidden stops it', async () => {
  const t = setup();
  t.add(21, 1);
  t.cursors.track(21, 1);
  await settle();
  t.add(21, 2);
  t.failWith(new ApiError('unavailable', 'db down', true));
  t.cursors.onFrame(21, 3, ev(21, 3));
  for (let i = 0; i < 3; i++) await settle();
  assert.equal(t.applied.length, 0);
  assert.equal(t.retries.length, 1);
  t.retries[0]();
  for (let i = 0; i < 3; i++) await settle();
  inOrder(t.applied, 21, 2, 3);
  t.add(21, 1);
  t.failWith(new ApiError('forbidden', 'not a member', false));
  t.cursors.onFrame(21, 5, ev(21, 5)); // a gap (4 missing): fill refused
  for (let i = 0; i < 3; i++) await settle();
  assert.equal(t.retries.length, 1, 'no retry after forbidden');
});
