import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerAdmin, NodeStatus, parseTraceKey } from '../../src/lib/server_admin';
import {
  brokerOf,
  formatBytes,
  formatPercent,
  formatRate,
  formatUptime,
  pgWhere,
  Poller,
  ratesBetween,
  shortNode,
  shownConfigValue,
  storageOf,
  Topology,
  total,
} from '../../src/lib/topology';
import { ApiError } from '../../src/lib/types';
import { flush, ManualClock } from './fakes';

function node(id: string, metrics: Record<string, number>, extra: Partial<NodeStatus> = {}): NodeStatus {
  return { node: id, version: '0.1.0', started_at_ms: 1000, sessions: 2, users: 1, stopping: false, metrics, ...extra };
}

const m = (ops: number, cpu: number, sends = 0, deliveries = 0, pub = 0, rec = 0) => ({
  confab_operations_total: ops,
  process_cpu_seconds_total: cpu,
  confab_send_commit_seconds_count: sends,
  confab_live_delivery_seconds_count: deliveries,
  confab_broker_published_total: pub,
  confab_broker_received_total: rec,
  process_resident_memory_bytes: 1 << 24,
});

test('rates are the difference of two samples per second of the time between them', () => {
  const a = { atMs: 10_000, node: node('n1', m(100, 1.5, 10, 30, 10, 12)) };
  const b = { atMs: 12_000, node: node('n1', m(160, 1.7, 14, 50, 14, 20)) };
  const r = ratesBetween(a, b);
  assert.equal(r.operations, 30);
  assert.equal(r.sends, 2);
  assert.equal(r.deliveries, 10);
  assert.equal(r.published, 2);
  assert.equal(r.received, 4);
  assert.ok(Math.abs(r.cpuPercent! - 10) < 1e-9, String(r.cpuPercent)); // 0.2 s of CPU in 2 s
});

test('no rates from one sample, another node, a restarted node, or no time passed', () => {
  const b = { atMs: 12_000, node: node('n1', m(160, 1.7)) };
  const none = { operations: null, sends: null, deliveries: null, published: null, received: null, cpuPercent: null };
  assert.deepEqual(ratesBetween(undefined, b), none);
  assert.deepEqual(ratesBetween({ atMs: 10_000, node: node('n2', m(100, 1)) }, b), none);
  assert.deepEqual(ratesBetween({ atMs: 10_000, node: node('n1', m(100, 1), { started_at_ms: 500 }) }, b), none);
  assert.deepEqual(ratesBetween({ atMs: 12_000, node: node('n1', m(100, 1)) }, b), none);
});

test('a counter that went down or is absent gives no rate for that counter only', () => {
  const a = { atMs: 0, node: node('n1', { confab_operations_total: 50, process_cpu_seconds_total: 1 }) };
  const b = { atMs: 1000, node: node('n1', { confab_operations_total: 40, process_cpu_seconds_total: 1.01 }) };
  const r = ratesBetween(a, b);
  assert.equal(r.operations, null);
  assert.equal(r.sends, null);
  assert.ok(Math.abs(r.cpuPercent! - 1) < 1e-9);
});

test('the topology shows "no rate" until a node has answered twice, and draws missing nodes from their last answer', () => {
  const t = new Topology();
  let v = t.update({ nodes: [node('bbb', m(10, 1)), node('aaa', m(5, 1), { started_at_ms: 2000 })], missing: [] }, 0);
  assert.deepEqual(v.map((x) => x.id), ['bbb', 'aaa'], 'oldest start first');
  assert.ok(v.every((x) => x.health === 'answering' && x.rates.operations === null));
  v = t.update({ nodes: [node('bbb', m(13, 1.1)), node('aaa', m(9, 1), { started_at_ms: 2000, stopping: true })], missing: [] }, 1000);
  assert.equal(v[0].rates.operations, 3);
  assert.equal(v[1].rates.operations, 4);
  assert.equal(v[1].health, 'stopping');
  assert.equal(total(v, (x) => x.rates.operations), 7);
  // aaa stops answering: drawn missing with its last figures, no rates; a never-seen one too.
  v = t.update({ nodes: [node('bbb', m(20, 1.2))], missing: ['ccc', 'aaa'] }, 2000);
  assert.deepEqual(
    v.map((x) => [x.id, x.health, x.status?.sessions ?? null, x.rates.operations]),
    [
      ['bbb', 'answering', 2, 7],
      ['aaa', 'missing', 2, null],
      ['ccc', 'missing', null, null],
    ],
  );
  assert.equal(total(v, (x) => x.status?.sessions ?? null), 2, 'totals count answering nodes only');
  // aaa answers again (same run): its rate spans the gap. ccc is gone (reaped) and forgotten.
  v = t.update({ nodes: [node('bbb', m(20, 1.2)), node('aaa', m(29, 1), { started_at_ms: 2000 })], missing: [] }, 3000);
  assert.equal(v.find((x) => x.id === 'aaa')!.rates.operations, 10);
  assert.equal(v.length, 2);
});

test('figures as people read them', () => {
  assert.equal(formatRate(null), '—');
  assert.equal(formatRate(0), '0.0');
  assert.equal(formatRate(2.345), '2.3');
  assert.equal(formatRate(12.6), '13');
  assert.equal(formatRate(9999.4), '9999');
  assert.equal(formatRate(12_345), '12.3k');
  assert.equal(formatRate(2_500_000), '2.5M');
  assert.equal(formatPercent(null), '—');
  assert.equal(formatPercent(1.234), '1.2 %');
  assert.equal(formatPercent(150.4), '150 %');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(16363520), '15.6 MiB');
  assert.equal(formatBytes(156 * 1024 * 1024), '156 MiB');
  assert.equal(formatBytes(1024 * 1024 - 1), '1.0 MiB');
  assert.equal(formatBytes(undefined), '—');
  assert.equal(formatUptime(-5), '0 s');
  assert.equal(formatUptime(42_900), '42 s');
  assert.equal(formatUptime(5 * 60_000 + 10_000), '5 min');
  assert.equal(formatUptime((3 * 60 + 7) * 60_000), '3 h 7 min');
  assert.equal(formatUptime((2 * 24 + 4) * 3_600_000 + 59_000), '2 d 4 h');
  assert.equal(shortNode('3f2a9c01d4e5f6a7'), '3f2a9c01');
  assert.equal(shortNode('abc'), 'abc');
});

test('the broker and the database from the configuration, never a password', () => {
  assert.deepEqual(brokerOf({ broker: 'inproc', redis: '' }), { kind: 'inproc', label: 'In-process broker', addresses: [] });
  assert.deepEqual(brokerOf({ broker: 'redis', redis: '10.0.0.9:6379, 10.0.0.10:6379' }).addresses, ['10.0.0.9:6379', '10.0.0.10:6379']);
  assert.deepEqual(storageOf({ storage: 'sqlite', 'sqlite-path': 'data/confab.db' }), { kind: 'sqlite', label: 'SQLite', detail: 'data/confab.db' });
  assert.equal(storageOf({ storage: 'postgres', 'pg-dsn': 'host=db1 port=5433 dbname=confab user=confab password=***' }).detail, 'db1:5433/confab');
  assert.equal(pgWhere('postgresql://confab:***@db.example:5432/chat?sslmode=require'), 'db.example:5432/chat');
  assert.equal(pgWhere("host='my db' dbname=x password='s3 cret'"), 'my db/x');
  assert.equal(shownConfigValue('pg-dsn', 'host=db password=hunter2 dbname=x'), 'host=db password=*** dbname=x');
  assert.equal(shownConfigValue('pg-dsn', "host=db password='a b' dbname=x"), 'host=db password=*** dbname=x');
  assert.equal(shownConfigValue('pg-dsn', 'postgres://u:hunter2@db/x'), 'postgres://u:***@db/x');
  assert.equal(shownConfigValue('pg-dsn', 'postgres://u:***@db/x?password=p2&sslmode=disable'), 'postgres://u:***@db/x?password=***&sslmode=disable');
  assert.equal(shownConfigValue('vapid-private-key', 'abc'), '***');
  assert.equal(shownConfigValue('listen', '127.0.0.1:8080'), '127.0.0.1:8080');
});

test('the poller runs at once, then a period after each run ends; it pauses while hidden and stops', async () => {
  const clock = new ManualClock();
  let visible = true;
  let notify = () => {};
  let runs = 0;
  let release: (() => void) | null = null;
  const p = new Poller(
    () =>
      new Promise<void>((r) => {
        runs++;
        release = r;
      }),
    1000,
    { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, visible: () => visible, onVisibility: (fn) => ((notify = fn), () => (notify = () => {})) },
  );
  p.start();
  assert.equal(runs, 1);
  clock.advance(5000);
  assert.equal(runs, 1, 'no second run while the first is unanswered');
  release!();
  await flush();
  clock.advance(999);
  assert.equal(runs, 1);
  clock.advance(1);
  assert.equal(runs, 2);
  release!();
  await flush();
  visible = false;
  notify();
  assert.equal(clock.pending(), 0, 'hidden: nothing scheduled');
  clock.advance(10_000);
  assert.equal(runs, 2);
  visible = true;
  notify();
  assert.equal(runs, 3, 'visible again: runs at once');
  release!();
  await flush();
  p.stop();
  assert.equal(clock.pending(), 0, 'stopped: nothing scheduled');
  notify();
  clock.advance(10_000);
  assert.equal(runs, 3);
});

test('a failed run does not end polling', async () => {
  const clock = new ManualClock();
  let runs = 0;
  const p = new Poller(
    async () => {
      runs++;
      throw new ApiError('disconnected', 'cannot reach the server', true);
    },
    1000,
    { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, visible: () => true, onVisibility: () => () => {} },
  );
  p.start();
  await flush();
  clock.advance(1000);
  await flush();
  assert.equal(runs, 2);
  p.stop();
});

test('administrator or not: admin_server answers, forbidden, or a failure that may pass (asked again)', async () => {
  const answers: (() => unknown)[] = [
    () => {
      throw new ApiError('disconnected', 'cannot reach the server', true);
    },
    () => ({ version: '0.1.0', node: 'n1', config: {} }),
  ];
  let changes = 0;
  const ok = new ServerAdmin(async <T>() => answers.shift()!() as T, () => changes++);
  await ok.check();
  assert.equal(ok.role, 'unknown');
  await ok.check();
  assert.equal(ok.role, 'admin');
  assert.equal(ok.info?.node, 'n1');
  await ok.check(); // known: not asked again
  assert.equal(changes, 2);
  const no = new ServerAdmin(async () => {
    throw new ApiError('forbidden', 'server administrators only', false);
  }, () => {});
  await no.check();
  assert.equal(no.role, 'not_admin');
});

test('a trace key is a trace id or conversation:seq, and nothing else', () => {
  assert.deepEqual(parseTraceKey(' 12345 '), { trace_id: 12345 });
  assert.deepEqual(parseTraceKey('7:12'), { conv: 7, seq: 12 });
  assert.deepEqual(parseTraceKey('7 12'), { conv: 7, seq: 12 });
  for (const bad of ['', 'abc', '0', '7:0', '0:3', '-5', '1.5', '7:12:3', '99999999999999999999'])
    assert.equal(parseTraceKey(bad), null, bad);
});
