import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerAdmin, NodeStatus } from '../../src/lib/server_admin';
import {
  brokerOf,
  brokerView,
  compactSlots,
  formatBytes,
  formatPercent,
  formatRate,
  formatSlots,
  formatUptime,
  mergeProxies,
  NodeView,
  nodeBroker,
  nodeProxies,
  pgWhere,
  Poller,
  ratesBetween,
  reachedDirectly,
  shortNode,
  shownConfigValue,
  slotCount,
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

// ------------------------------------------------------------------ shards and load balancers

const shard = (address: string, slots: [number, number][], channels = 4, connected = true) => ({ address, slots, connected, channels });
const redis = (...shards: ReturnType<typeof shard>[]) => ({ kind: 'redis', cluster: true, shards });
const threeShards = (up7002 = true) =>
  redis(shard('127.0.0.1:7001', [[0, 5460]], 12), shard('127.0.0.1:7002', [[5461, 10922]], 3, up7002), shard('127.0.0.1:7003', [[10923, 16383]], 0));
const cfg = { broker: 'redis', redis: '127.0.0.1:7001' };

/** The views of one admin_nodes answer. */
function viewsOf(nodes: NodeStatus[], missing: string[] = []): NodeView[] {
  return new Topology().update({ nodes, missing }, 0);
}

test('slot ranges are sorted and joined where they overlap or touch, and read as "0–5460"', () => {
  assert.deepEqual(
    compactSlots([
      [100, 199],
      [0, 99],
      [300, 300],
      [150, 250],
      [302, 400],
    ]),
    [
      [0, 250],
      [300, 300],
      [302, 400],
    ],
  );
  assert.deepEqual(compactSlots([[5, 3], [0, 16384], [-1, 2], [1.5, 2], 'x', [7], null]), [], 'anything not a range of slots is dropped');
  assert.equal(formatSlots(compactSlots([[0, 5460]])), '0–5460');
  assert.equal(formatSlots([[0, 99], [300, 300], [302, 400]]), '0–99, 300, 302–400');
  assert.equal(formatSlots([]), 'no slots');
  assert.equal(slotCount([[0, 5460], [10923, 16383]]), 5461 + 5461);
});

test('the shards are merged over the answering nodes: the union by address, channels summed, an edge per node', () => {
  const views = viewsOf([
    node('aaa', {}, { broker: threeShards() }),
    // bbb knows the masters in another order, with its slots split in two ranges, and one more channel.
    node('bbb', {}, {
      started_at_ms: 2000,
      broker: redis(shard('127.0.0.1:7003', [[10923, 16383]], 1), shard('127.0.0.1:7001', [[0, 99], [100, 5460]], 12), shard('127.0.0.1:7002', [[5461, 10922]], 3)),
    }),
  ]);
  const b = brokerView(views, cfg)!;
  assert.equal(b.source, 'nodes');
  assert.equal(b.kind, 'redis');
  assert.equal(b.cluster, true);
  assert.deepEqual(b.reporting, ['aaa', 'bbb']);
  assert.deepEqual(b.differs, [], 'the same slot map, however written');
  assert.deepEqual(
    b.shards.map((s) => [s.address, formatSlots(s.slots), s.connected, s.channels, s.trouble]),
    [
      ['127.0.0.1:7001', '0–5460', 2, 24, false],
      ['127.0.0.1:7002', '5461–10922', 2, 6, false],
      ['127.0.0.1:7003', '10923–16383', 2, 1, false],
    ],
  );
  assert.deepEqual(b.shards[0].links, [
    { node: 'aaa', connected: true, channels: 12 },
    { node: 'bbb', connected: true, channels: 12 },
  ]);
});

test('a master one node is not connected to is in trouble, and that node’s edge to it is down', () => {
  const views = viewsOf([
    node('aaa', {}, { broker: threeShards() }),
    node('bbb', {}, { broker: threeShards(false) }),
  ]);
  const b = brokerView(views, cfg)!;
  const down = b.shards.find((s) => s.address === '127.0.0.1:7002')!;
  assert.equal(down.trouble, true);
  assert.equal(down.connected, 1);
  assert.deepEqual(down.links.map((l) => [l.node, l.connected]), [
    ['aaa', true],
    ['bbb', false],
  ]);
  assert.deepEqual(b.shards.filter((s) => s.trouble).map((s) => s.address), ['127.0.0.1:7002'], 'the others are fine');
  assert.deepEqual(b.differs, [], 'being cut off is not a different slot map');
});

test('a node whose slot map is not the others’ is named; with no majority, every node is', () => {
  // ccc still sees slots 5461–10922 on 7001 (a migration it has not caught up with) and no 7002.
  const stale = redis(shard('127.0.0.1:7001', [[0, 10922]], 15), shard('127.0.0.1:7003', [[10923, 16383]]));
  const views = viewsOf([node('aaa', {}, { broker: threeShards() }), node('bbb', {}, { broker: threeShards() }), node('ccc', {}, { broker: stale })]);
  const b = brokerView(views, cfg)!;
  assert.deepEqual(b.differs, ['ccc']);
  // The masters' slots are those the agreeing nodes give; 7002 is known to two of the three.
  assert.deepEqual(
    b.shards.map((s) => [s.address, formatSlots(s.slots), s.links.length]),
    [
      ['127.0.0.1:7001', '0–5460', 3],
      ['127.0.0.1:7002', '5461–10922', 2],
      ['127.0.0.1:7003', '10923–16383', 3],
    ],
  );
  // Two nodes, two maps: neither can be told right.
  const two = brokerView(viewsOf([node('aaa', {}, { broker: threeShards() }), node('bbb', {}, { broker: stale })]), cfg)!;
  assert.deepEqual(two.differs, ['aaa', 'bbb']);
  assert.equal(formatSlots(two.shards[0].slots), '0–10922', 'a master’s slots are then all those any node gives it');
  // A node that knows no master at all differs too; a standalone Redis is one master with every slot.
  const lost = brokerView(
    viewsOf([node('aaa', {}, { broker: threeShards() }), node('bbb', {}, { broker: threeShards() }), node('ccc', {}, { broker: redis() })]),
    cfg,
  )!;
  assert.deepEqual(lost.differs, ['ccc']);
  const one = { kind: 'redis', cluster: false, shards: [shard('10.0.0.9:6379', [[0, 16383]])] };
  const standalone = brokerView(viewsOf([node('aaa', {}, { broker: one })]), cfg)!;
  assert.equal(standalone.cluster, false);
  assert.deepEqual(standalone.shards.map((s) => [s.address, slotCount(s.slots)]), [['10.0.0.9:6379', 16384]]);
});

test('older nodes without the fields: the broker from the configuration, no load balancers, no errors', () => {
  const old = viewsOf([node('aaa', {}), node('bbb', {})]);
  const b = brokerView(old, { broker: 'redis', redis: '10.0.0.9:6379,10.0.0.10:6379' })!;
  assert.equal(b.source, 'config');
  assert.equal(b.label, 'Redis');
  assert.deepEqual(b.addresses, ['10.0.0.9:6379', '10.0.0.10:6379']);
  assert.deepEqual([b.shards, b.reporting, b.differs], [[], [], []]);
  assert.equal(brokerView(old, null), null, 'nothing to go on before admin_server answers');
  assert.deepEqual(mergeProxies(old), []);
  assert.equal(reachedDirectly(old[0].status), true);
  assert.equal(nodeBroker(old[0].status), null);
  assert.equal(nodeProxies(old[0].status), null);
  // Mid-upgrade: the new node's report is drawn; the old one is left out of it (not counted as cut off).
  const mixed = brokerView(viewsOf([node('aaa', {}), node('bbb', {}, { broker: threeShards(), proxies: [] })]), cfg)!;
  assert.equal(mixed.source, 'nodes');
  assert.deepEqual(mixed.reporting, ['bbb']);
  assert.deepEqual(mixed.differs, []);
  assert.ok(mixed.shards.every((s) => s.links.length === 1 && !s.trouble));
  // Nonsense from a node is not drawn: a broker without a kind, shards without an address.
  const odd = { kind: 'redis', cluster: 'yes', shards: [{ slots: [[0, 1]] }, { address: '127.0.0.1:7001', slots: 'all', connected: 1, channels: -3 }, 7] };
  assert.deepEqual(nodeBroker(node('x', {}, { broker: odd as never })), {
    kind: 'redis',
    cluster: false,
    shards: [{ address: '127.0.0.1:7001', slots: [], connected: false, channels: 0 }],
  });
  assert.equal(nodeBroker(node('x', {}, { broker: { cluster: true } as never })), null);
  assert.equal(nodeProxies(node('x', {}, { proxies: {} as never })), null);
});

test('the in-process broker, reported by the node, has no shards', () => {
  const b = brokerView(viewsOf([node('aaa', {}, { broker: { kind: 'inproc', cluster: false, shards: [] }, proxies: [] })]), null)!;
  assert.deepEqual([b.source, b.kind, b.label, b.cluster, b.shards], ['nodes', 'inproc', 'In-process broker', false, []]);
});

test('load balancers: one per address over the answering nodes, with each node’s sessions through it', () => {
  const views = viewsOf(
    [
      node('aaa', {}, { sessions: 7, proxies: [{ address: '10.0.0.2', sessions: 4 }, { address: '10.0.0.1', sessions: 3 }] }),
      node('bbb', {}, { started_at_ms: 2000, sessions: 6, proxies: [{ address: '10.0.0.1', sessions: 5 }] }),
      node('ccc', {}, { started_at_ms: 3000, sessions: 0, proxies: [] }),
    ],
    [],
  );
  assert.deepEqual(mergeProxies(views), [
    {
      address: '10.0.0.1',
      sessions: 8,
      nodes: [
        { node: 'aaa', sessions: 3 },
        { node: 'bbb', sessions: 5 },
      ],
    },
    { address: '10.0.0.2', sessions: 4, nodes: [{ node: 'aaa', sessions: 4 }] },
  ]);
  // aaa's sessions all came through load balancers; bbb has one more that came directly; ccc none.
  assert.deepEqual(views.map((v) => reachedDirectly(v.status)), [false, true, true]);
  // A node not answering is drawn from its last answer, but its sessions are not counted.
  const t = new Topology();
  t.update({ nodes: [node('aaa', {}, { proxies: [{ address: '10.0.0.1', sessions: 2 }] })], missing: [] }, 0);
  assert.deepEqual(mergeProxies(t.update({ nodes: [], missing: ['aaa'] }, 1000)), []);
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
