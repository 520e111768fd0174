// The Message trace's timeline layout: lanes per node, marks at their time since the first hop on
// a linear or logarithmic axis, the time since the hop before each, labels kept apart, and ticks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TraceHop } from '../../src/lib/server_admin';
import { defaultScale, formatDuration, formatStep, formatTick, laneLabel, TIMELINE, traceTimeline } from '../../src/lib/trace_timeline';

const A = '3f2a7b1c9d8e7f60';
const B = 'b0b0c0c0d0d0e0e0';
const T0 = 1_700_000_000_000_000;

const hop = (name: string, node: string, dt: number, extra: Record<string, unknown> = {}): TraceHop => ({ hop: name, node, at_us: T0 + dt, ...extra });

/** A send received on A and delivered through B: µs apart first, then a receipt 2 s later. */
const send: TraceHop[] = [
  hop('received', A, 0),
  hop('validated', A, 40),
  hop('committed', A, 1_240),
  hop('published', A, 1_300),
  hop('broker_received', B, 1_900),
  hop('queued', B, 1_950),
  hop('acked', A, 2_000),
  hop('read', B, 2_000_000),
];

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

test('one lane per node, in the order the nodes first appear, named by their short id', () => {
  const L = traceTimeline(send, 'linear');
  assert.deepEqual(
    L.lanes.map((l) => [l.node, l.label]),
    [
      [A, 'node 3f2a7b1c'],
      [B, 'node b0b0c0c0'],
    ],
  );
  assert.deepEqual(
    L.marks.map((m) => m.lane),
    [0, 0, 0, 0, 1, 1, 0, 1],
  );
  // Lanes are stacked without overlap, each mark on its lane's axis, the time axis below them all.
  assert.equal(L.lanes[1].top, L.lanes[0].top + L.lanes[0].height);
  for (const m of L.marks) assert.equal(m.y, L.lanes[m.lane].y);
  assert.ok(L.axisY >= L.lanes[1].top + L.lanes[1].height);
  assert.ok(L.height > L.axisY);
  assert.equal(laneLabel('queue'), 'push queue', 'the push hops’ node');
  assert.equal(laneLabel('abc'), 'node abc');
});

test('linear: a mark’s x is in proportion to its time since the first hop', () => {
  const L = traceTimeline(send, 'linear');
  assert.equal(L.scale, 'linear');
  assert.equal(L.total_us, 2_000_000);
  assert.equal(L.marks[0].x, L.left, 'the first hop at the start');
  assert.equal(L.marks[7].x, L.right, 'the last at the end');
  near(L.marks[2].x, L.left + ((L.right - L.left) * 1_240) / 2_000_000, 'committed');
  assert.deepEqual(
    L.marks.map((m) => m.offset_us),
    [0, 40, 1_240, 1_300, 1_900, 1_950, 2_000, 2_000_000],
  );
});

test('logarithmic: x follows log(1 + µs since the first hop), so the first microseconds are apart', () => {
  const L = traceTimeline(send, 'log');
  const share = (us: number) => Math.log10(1 + us) / Math.log10(1 + 2_000_000);
  assert.equal(L.marks[0].x, L.left);
  assert.equal(L.marks[7].x, L.right);
  near(L.marks[1].x, L.left + (L.right - L.left) * share(40), 'validated');
  near(L.marks[2].x, L.left + (L.right - L.left) * share(1_240), 'committed');
  assert.ok(L.marks[1].x - L.marks[0].x > 100, 'received and validated 40 µs apart are far apart');
  for (let i = 1; i < L.marks.length; i++) assert.ok(L.marks[i].x >= L.marks[i - 1].x, 'in time order');
});

test('each hop has the time since the hop before it, on any node; a move to another node is a cross step', () => {
  const L = traceTimeline(send, 'log');
  assert.deepEqual(
    L.marks.map((m) => m.since_prev_us),
    [null, 40, 1_200, 60, 600, 50, 50, 1_998_000],
  );
  assert.deepEqual(
    L.marks.map((m) => m.duration),
    ['start', '+40 µs', '+1.200 ms', '+60 µs', '+600 µs', '+50 µs', '+50 µs', '+1.998 s'],
  );
  assert.equal(L.steps.length, send.length - 1);
  assert.deepEqual(
    L.steps.map((s) => [s.from, s.to, s.us, s.cross]),
    [
      [0, 1, 40, false],
      [1, 2, 1_200, false],
      [2, 3, 60, false],
      [3, 4, 600, true],
      [4, 5, 50, false],
      [5, 6, 50, true],
      [6, 7, 1_998_000, true],
    ],
  );
  const s = L.steps[3];
  assert.deepEqual([s.x1, s.y1, s.x2, s.y2], [L.marks[3].x, L.marks[3].y, L.marks[4].x, L.marks[4].y], 'from one mark to the next');
});

test('labels that would overlap go on new rows of their lane, which grows; apart, they share a row', () => {
  const close = [hop('received', A, 0), hop('validated', A, 1), hop('committed', A, 2), hop('acked', A, 1_000_000)];
  const L = traceTimeline(close, 'linear');
  assert.deepEqual(
    L.marks.map((m) => m.row),
    [0, 1, 2, 0],
    'three hops within 2 µs of 1 s stack up; the last has room',
  );
  for (const m of L.marks) {
    assert.ok(m.labelX >= L.left - 8 && m.labelX + m.labelW <= L.width, `${m.hop}'s label within the drawing`);
    assert.equal(m.labelY, L.marks[0].labelY + m.row * TIMELINE.rowH);
  }
  const one = traceTimeline([hop('received', A, 0), hop('acked', A, 1_000_000)], 'linear');
  assert.deepEqual(
    one.marks.map((m) => m.row),
    [0, 0],
  );
  assert.equal(L.lanes[0].height - one.lanes[0].height, 2 * TIMELINE.rowH, 'two more rows');
  // Never more than maxRows: further labels go on the row that ends first.
  const many = [...Array.from({ length: 20 }, (_, i) => hop(`hop${i}`, A, i)), hop('read', A, 1_000_000)];
  const M = traceTimeline(many, 'linear');
  assert.equal(Math.max(...M.marks.map((m) => m.row)), TIMELINE.maxRows - 1);
  assert.equal(M.lanes[0].height, one.lanes[0].height + (TIMELINE.maxRows - 1) * TIMELINE.rowH);
});

test('ticks: 0 and powers of ten on a logarithmic axis, round steps on a linear one, never crowded', () => {
  const log = traceTimeline(send, 'log');
  assert.equal(log.ticks[0].label, '0');
  assert.equal(log.ticks[0].x, log.left);
  for (const t of log.ticks.slice(1)) assert.equal(Math.log10(t.us) % 1, 0, `${t.us} is a power of ten`);
  assert.ok(
    log.ticks.some((t) => t.label === '1 ms'),
    log.ticks.map((t) => t.label).join(),
  );
  assert.ok(log.ticks.some((t) => t.label === '1 s'));
  const lin = traceTimeline(send, 'linear');
  assert.deepEqual(
    lin.ticks.map((t) => t.label),
    ['0', '500 ms', '1 s', '1.5 s', '2 s'],
  );
  for (const L of [log, lin]) {
    for (let i = 1; i < L.ticks.length; i++) assert.ok(L.ticks[i].x - L.ticks[i - 1].x >= TIMELINE.minTickGap, 'apart');
    for (const t of L.ticks) assert.ok(t.x >= L.left && t.x <= L.right, 'on the axis');
  }
});

test('the earliest hop is the start should the order be off; a clock behind shows as a negative step', () => {
  const L = traceTimeline([hop('received', A, 100), hop('broker_received', B, 0), hop('acked', A, 300)], 'linear');
  assert.deepEqual(
    L.marks.map((m) => m.offset_us),
    [100, 0, 300],
  );
  assert.equal(L.marks[1].x, L.left);
  assert.equal(L.marks[1].duration, '−100 µs');
  assert.equal(L.total_us, 300);
});

test('one hop, or none: everything at the start, nothing divided by zero', () => {
  const one = traceTimeline([hop('failed', A, 0, { error: 'forbidden' })]);
  assert.equal(one.total_us, 0);
  assert.equal(one.marks[0].x, one.left);
  assert.equal(one.marks[0].failed, true, 'a failed send’s hop is marked');
  assert.deepEqual(
    one.ticks.map((t) => t.label),
    ['0'],
  );
  assert.equal(one.steps.length, 0);
  const none = traceTimeline([]);
  assert.deepEqual([none.lanes.length, none.marks.length, none.steps.length], [0, 0, 0]);
  assert.ok(Number.isFinite(none.height));
  const same = traceTimeline([hop('received', A, 5), hop('validated', A, 5)], 'log');
  assert.deepEqual(
    same.marks.map((m) => [m.x, m.duration]),
    [
      [same.left, 'start'],
      [same.left, '+0 µs'],
    ],
  );
});

test('the default axis: logarithmic when the gaps span more than two orders of magnitude', () => {
  assert.equal(defaultScale(send), 'log');
  assert.equal(defaultScale([hop('a', A, 0), hop('b', A, 100), hop('c', A, 200), hop('d', A, 300)]), 'linear');
  assert.equal(defaultScale([hop('a', A, 0), hop('b', A, 1)]), 'linear', 'two hops: one gap');
  assert.equal(defaultScale([hop('a', A, 0), hop('b', A, 0), hop('c', A, 0)]), 'linear', 'no time passed');
  assert.equal(traceTimeline(send).scale, 'log');
});

test('durations and ticks in words', () => {
  assert.equal(formatDuration(0), '0 µs');
  assert.equal(formatDuration(999), '999 µs');
  assert.equal(formatDuration(1_000), '1.000 ms');
  assert.equal(formatDuration(12_345), '12.35 ms');
  assert.equal(formatDuration(123_456), '123.5 ms');
  assert.equal(formatDuration(2_500_000), '2.500 s');
  assert.equal(formatDuration(59_400_000), '59.40 s');
  assert.equal(formatDuration(185_000_000), '3 min 5 s');
  assert.equal(formatDuration(-1_500), '−1.500 ms');
  assert.equal(formatStep(40), '+40 µs');
  assert.equal(formatStep(-40), '−40 µs');
  assert.equal(formatTick(0), '0');
  assert.equal(formatTick(10), '10 µs');
  assert.equal(formatTick(2_500), '2.5 ms');
  assert.equal(formatTick(1_000_000), '1 s');
  assert.equal(formatTick(90_000_000), '1.5 min');
});
