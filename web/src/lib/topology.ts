// The live topology view's arithmetic, without any UI: rates from two consecutive admin_nodes
// answers, each node's health, the broker's shards and the load balancers as the nodes report
// them (or, from older nodes, what the configuration says about the broker), the database, the
// figures as people read them, and the once-a-second poll that stops while the tab is hidden.
import { BrokerShard, NodeBroker, NodesReply, NodeStatus, ProxyUse } from './server_admin';

export type Health = 'answering' | 'stopping' | 'missing';

/** A node's answer and when it arrived (the client's clock: admin_nodes carries no time). */
export interface Sample {
  atMs: number;
  node: NodeStatus;
}

/** Per second, between two samples; null until there are two (or when they cannot be compared). */
export interface Rates {
  operations: number | null;
  sends: number | null;
  deliveries: number | null;
  published: number | null;
  received: number | null;
  /** CPU time per wall-clock time, in percent of one core (above 100 with several threads busy). */
  cpuPercent: number | null;
}

/** The counters each rate is the difference of (docs/operations.md, "Metrics"). */
export const RATE_COUNTERS: Record<Exclude<keyof Rates, 'cpuPercent'>, string> = {
  operations: 'confab_operations_total',
  sends: 'confab_send_commit_seconds_count',
  deliveries: 'confab_live_delivery_seconds_count',
  published: 'confab_broker_published_total',
  received: 'confab_broker_received_total',
};
export const CPU_COUNTER = 'process_cpu_seconds_total';

export const NO_RATES: Rates = { operations: null, sends: null, deliveries: null, published: null, received: null, cpuPercent: null };

/**
 * The rates between an earlier and a later sample of the same node. None when there is no
 * earlier sample, when the two are of different nodes or of different runs of one (restarted:
 * its counters began again), or when no time passed; a counter absent from either sample, or
 * lower in the later one, gives no rate for that counter alone.
 */
export function ratesBetween(before: Sample | undefined, after: Sample): Rates {
  if (!before || before.node.node !== after.node.node || before.node.started_at_ms !== after.node.started_at_ms) return NO_RATES;
  const seconds = (after.atMs - before.atMs) / 1000;
  if (!(seconds > 0)) return NO_RATES;
  const per = (name: string): number | null => {
    const a = before.node.metrics[name];
    const b = after.node.metrics[name];
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b < a) return null;
    return (b - a) / seconds;
  };
  const cpu = per(CPU_COUNTER);
  return {
    operations: per(RATE_COUNTERS.operations),
    sends: per(RATE_COUNTERS.sends),
    deliveries: per(RATE_COUNTERS.deliveries),
    published: per(RATE_COUNTERS.published),
    received: per(RATE_COUNTERS.received),
    cpuPercent: cpu === null ? null : cpu * 100,
  };
}

/** A node as drawn: its last answer (null for a missing node never seen), health and rates. */
export interface NodeView {
  id: string;
  health: Health;
  status: NodeStatus | null;
  rates: Rates;
}

/**
 * Keeps each node's previous sample across polls. update() takes one admin_nodes answer and
 * gives every node in it, answered ones first (oldest start first, so boxes keep their places),
 * then the missing ones, drawn from their last answer when there was one. A node in neither
 * list (reaped by the broker) is forgotten.
 */
export class Topology {
  private readonly last = new Map<string, Sample>();

  update(reply: NodesReply, atMs: number): NodeView[] {
    const seen = new Set<string>();
    const answered: NodeView[] = [];
    for (const node of reply.nodes) {
      if (seen.has(node.node)) continue;
      seen.add(node.node);
      const sample = { atMs, node };
      answered.push({ id: node.node, health: node.stopping ? 'stopping' : 'answering', status: node, rates: ratesBetween(this.last.get(node.node), sample) });
      this.last.set(node.node, sample);
    }
    answered.sort((a, b) => a.status!.started_at_ms - b.status!.started_at_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const missing: NodeView[] = [];
    for (const id of [...new Set(reply.missing)].sort()) {
      if (seen.has(id)) continue;
      seen.add(id);
      missing.push({ id, health: 'missing', status: this.last.get(id)?.node ?? null, rates: NO_RATES });
    }
    for (const id of [...this.last.keys()]) if (!seen.has(id)) this.last.delete(id);
    return [...answered, ...missing];
  }

  reset(): void {
    this.last.clear();
  }
}

/** The sum of one figure over the nodes that answered; null when none did. */
export function total(views: NodeView[], figure: (v: NodeView) => number | null): number | null {
  let sum: number | null = null;
  for (const v of views) {
    if (v.health === 'missing') continue;
    const x = figure(v);
    if (x !== null) sum = (sum ?? 0) + x;
  }
  return sum;
}

// ------------------------------------------------------------------ the deployment around the nodes

export interface BrokerInfo {
  kind: 'redis' | 'inproc' | 'other';
  label: string;
  /** Redis seed addresses (host:port). */
  addresses: string[];
}

export function brokerOf(config: Record<string, string>): BrokerInfo {
  const kind = config['broker'] ?? '';
  if (kind === 'redis') {
    const addresses = (config['redis'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return { kind: 'redis', label: 'Redis', addresses };
  }
  if (kind === 'inproc' || kind === '') return { kind: 'inproc', label: 'In-process broker', addresses: [] };
  return { kind: 'other', label: kind, addresses: [] };
}

/**
 * The broker as drawn. From the answering nodes' own reports when at least one gives them
 * (source 'nodes': Redis's masters merged over the nodes); else, from nodes too old to report,
 * from the configuration as admin_server gives it (source 'config': Redis's seed addresses).
 */
export interface BrokerView extends BrokerInfo {
  source: 'nodes' | 'config';
  cluster: boolean;
  shards: ShardView[];
  /** The answering nodes that reported their broker, in the views' order. */
  reporting: string[];
  /** The nodes whose slot map is not the others' (see slotMapDiffers). */
  differs: string[];
}

/** One Redis master over all answering nodes that know it. */
export interface ShardView {
  address: string;
  /** Its slots as the nodes that agree on the slot map see them (compacted). */
  slots: SlotRange[];
  /** One per answering node that lists it, in the views' order. */
  links: ShardLink[];
  /** How many of those nodes are connected to it. */
  connected: number;
  /** Channels subscribed on it, summed over the nodes. */
  channels: number;
  /** Some node that lists it is not connected to it. */
  trouble: boolean;
}

export interface ShardLink {
  node: string;
  connected: boolean;
  channels: number;
}

/** An inclusive range of Redis Cluster hash slots. */
export type SlotRange = [number, number];
export const SLOTS = 16384;

export function brokerView(views: NodeView[], config: Record<string, string> | null): BrokerView | null {
  const reports = answeringReports(views, nodeBroker);
  if (reports.length === 0) {
    if (!config) return null;
    return { ...brokerOf(config), source: 'config', cluster: false, shards: [], reporting: [], differs: [] };
  }
  const redis = reports.filter((r) => r.report.kind === 'redis');
  const kind = redis.length ? 'redis' : reports[0].report.kind;
  const differs = slotMapDiffers(redis);
  return {
    ...brokerOf({ broker: kind }),
    addresses: [],
    source: 'nodes',
    cluster: redis.some((r) => r.report.cluster),
    shards: mergeShards(redis, differs),
    reporting: reports.map((r) => r.node),
    differs,
  };
}

/** A node's own report, with the node's id. */
export interface Report<T> {
  node: string;
  report: T;
}

/** Each answering node's report of one kind, in the views' order; nodes without one are left out. */
function answeringReports<T>(views: NodeView[], of: (s: NodeStatus | null) => T | null): Report<T>[] {
  const out: Report<T>[] = [];
  for (const v of views) {
    const report = v.health === 'missing' ? null : of(v.status);
    if (report) out.push({ node: v.id, report });
  }
  return out;
}

/**
 * A node's broker report checked and tidied (slots compacted, shards sorted by address, one per
 * address); null from an older node that does not give one, or from an answer that makes no sense.
 */
export function nodeBroker(s: NodeStatus | null): NodeBroker | null {
  const b: unknown = s?.broker;
  if (!isObject(b) || typeof b.kind !== 'string') return null;
  const shards = new Map<string, BrokerShard>();
  for (const x of Array.isArray(b.shards) ? b.shards : []) {
    if (!isObject(x) || typeof x.address !== 'string' || x.address === '') continue;
    const slots = Array.isArray(x.slots) ? x.slots : [];
    const channels = count(x.channels);
    const had = shards.get(x.address);
    shards.set(x.address, {
      address: x.address,
      slots: compactSlots([...(had?.slots ?? []), ...slots]),
      connected: (had?.connected ?? true) && x.connected === true,
      channels: (had?.channels ?? 0) + channels,
    });
  }
  return { kind: b.kind, cluster: b.cluster === true, shards: [...shards.values()].sort((x, y) => compare(x.address, y.address)) };
}

/**
 * The nodes whose slot map (which master serves which slots) is not the others'. The others are
 * the nodes sharing the most common map; when no map is shared by more nodes than any other, no
 * node can be told right, and every node whose map differs from some other is named.
 */
export function slotMapDiffers(redis: Report<NodeBroker>[]): string[] {
  const keyOf = (b: NodeBroker) => JSON.stringify(b.shards.filter((x) => x.slots.length).map((x) => [x.address, x.slots]));
  const counts = new Map<string, number>();
  for (const r of redis) {
    const key = keyOf(r.report);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size <= 1) return [];
  const most = Math.max(...counts.values());
  const majority = [...counts].filter(([, n]) => n === most);
  const agreed = majority.length === 1 ? majority[0][0] : null;
  return redis.filter((r) => keyOf(r.report) !== agreed).map((r) => r.node);
}

/**
 * The masters over all nodes, by address (the union), sorted. A master's slots are those the
 * agreeing nodes give it, or, when none of them lists it, those every node that lists it gives.
 */
export function mergeShards(redis: Report<NodeBroker>[], differs: string[] = []): ShardView[] {
  const agreeing = new Set(redis.map((r) => r.node).filter((n) => !differs.includes(n)));
  const merged = new Map<string, ShardView & { agreed: SlotRange[]; all: SlotRange[] }>();
  for (const { node, report } of redis)
    for (const s of report.shards) {
      let m = merged.get(s.address);
      if (!m) merged.set(s.address, (m = { address: s.address, slots: [], links: [], connected: 0, channels: 0, trouble: false, agreed: [], all: [] }));
      m.links.push({ node, connected: s.connected, channels: s.channels });
      m.connected += s.connected ? 1 : 0;
      m.channels += s.channels;
      m.trouble ||= !s.connected;
      m.all.push(...s.slots);
      if (agreeing.has(node)) m.agreed.push(...s.slots);
    }
  return [...merged.values()]
    .sort((x, y) => compare(x.address, y.address))
    .map(({ agreed, all, ...m }) => ({ ...m, slots: compactSlots(agreed.length ? agreed : all) }));
}

/** Slot ranges sorted, overlapping and adjacent ones joined; anything not a range of slots dropped. */
export function compactSlots(ranges: readonly unknown[]): SlotRange[] {
  const valid = ranges.filter(isSlotRange).map(([a, b]): SlotRange => [a, b]);
  valid.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: SlotRange[] = [];
  for (const [a, b] of valid) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function isSlotRange(r: unknown): r is SlotRange {
  return Array.isArray(r) && r.length === 2 && Number.isInteger(r[0]) && Number.isInteger(r[1]) && 0 <= r[0] && r[0] <= r[1] && r[1] < SLOTS;
}

/** "0–5460", "0–99, 200–299", "42"; "no slots" for none. */
export function formatSlots(ranges: SlotRange[]): string {
  if (ranges.length === 0) return 'no slots';
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}–${b}`)).join(', ');
}

export function slotCount(ranges: SlotRange[]): number {
  return ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/** A load balancer over all answering nodes, with the sessions that came through it. */
export interface ProxyView {
  address: string;
  sessions: number;
  /** Per node that has sessions through it, in the views' order. */
  nodes: { node: string; sessions: number }[];
}

/** A node's proxy report checked (one entry per address, sorted); null from an older node. */
export function nodeProxies(s: NodeStatus | null): ProxyUse[] | null {
  const p: unknown = s?.proxies;
  if (!Array.isArray(p)) return null;
  const by = new Map<string, number>();
  for (const x of p) if (isObject(x) && typeof x.address === 'string' && x.address !== '') by.set(x.address, (by.get(x.address) ?? 0) + count(x.sessions));
  return [...by].map(([address, sessions]) => ({ address, sessions })).sort((x, y) => compare(x.address, y.address));
}

/** The load balancers over all answering nodes: one per address (the union), sorted. */
export function mergeProxies(views: NodeView[]): ProxyView[] {
  const merged = new Map<string, ProxyView>();
  for (const { node, report } of answeringReports(views, nodeProxies))
    for (const p of report) {
      let m = merged.get(p.address);
      if (!m) merged.set(p.address, (m = { address: p.address, sessions: 0, nodes: [] }));
      m.sessions += p.sessions;
      m.nodes.push({ node, sessions: p.sessions });
    }
  return [...merged.values()].sort((x, y) => compare(x.address, y.address));
}

/**
 * Whether clients reach a node other than through a reported load balancer: it reports none
 * (or is too old to say), or has more sessions than came through them.
 */
export function reachedDirectly(s: NodeStatus | null): boolean {
  const proxies = nodeProxies(s);
  if (!s || !proxies || proxies.length === 0) return true;
  return s.sessions > proxies.reduce((n, p) => n + p.sessions, 0);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A count as reported, or 0 when it is not one. */
function count(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? Math.floor(x) : 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface StorageInfo {
  kind: 'sqlite' | 'postgres' | 'other';
  label: string;
  /** The SQLite file, or the PostgreSQL server and database (never a password). */
  detail: string;
}

export function storageOf(config: Record<string, string>): StorageInfo {
  const kind = config['storage'] ?? '';
  if (kind === 'sqlite') return { kind: 'sqlite', label: 'SQLite', detail: config['sqlite-path'] ?? '' };
  if (kind === 'postgres') return { kind: 'postgres', label: 'PostgreSQL', detail: pgWhere(config['pg-dsn'] ?? '') };
  return { kind: 'other', label: kind || 'unknown', detail: '' };
}

/** "host:port/dbname" from a libpq connection string (URI or key=value), whatever else it holds. */
export function pgWhere(dsn: string): string {
  let host = '';
  let port = '';
  let db = '';
  const uri = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?([^/?#]*)(?:\/([^?#]*))?/.exec(dsn.trim());
  if (uri) {
    host = uri[1];
    db = decodeSafe(uri[2] ?? '');
  } else {
    for (const m of dsn.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/g)) {
      const v = m[2].startsWith("'") ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2];
      if (m[1] === 'host' || m[1] === 'hostaddr') host ||= v;
      else if (m[1] === 'port') port = v;
      else if (m[1] === 'dbname') db = v;
    }
    if (host && port) host = `${host}:${port}`;
  }
  return [host, db].filter(Boolean).join('/');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A configuration value as shown. The server already redacts its secrets; this hides any
 * password a connection string might still carry (a future option, an older server), as the
 * server does, with "***".
 */
export function shownConfigValue(name: string, value: string): string {
  const v = value
    .replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi, '$1***')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)[^@/?#]*@/i, '$1***@');
  if (/(secret|token|private[-_]?key|api[-_]?key|password)$/i.test(name) && v !== '') return '***';
  return v;
}

// ------------------------------------------------------------------ figures as people read them

/** "—" until there is a rate; then one decimal below 10, whole numbers up to 9999, "12.3k" above. */
export function formatRate(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '—';
  if (r < 10) return r.toFixed(1);
  if (r < 9999.5) return String(Math.round(r));
  if (r < 999_950) return `${(r / 1000).toFixed(1)}k`;
  return `${(r / 1e6).toFixed(1)}M`;
}

export function formatPercent(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '—';
  return p < 10 ? `${p.toFixed(1)} %` : `${Math.round(p)} %`;
}

/** Bytes in binary units: "512 B", "1.5 KiB", "15.6 MiB", "156 MiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = n;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(x)} B`;
  // 1023.96 KiB would round to "1024 KiB": show it as the next unit instead.
  if (x >= 1023.95 && u < units.length - 1) return `1.0 ${units[u + 1]}`;
  return x < 99.95 ? `${x.toFixed(1)} ${units[u]}` : `${Math.round(x)} ${units[u]}`;
}

/** How long a node has been up: "42 s", "5 min", "3 h 7 min", "2 d 4 h". */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A node id as shown: its first 8 characters (ids are random hex, so these tell nodes apart). */
export function shortNode(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

export function healthText(h: Health): string {
  return h === 'answering' ? 'answering' : h === 'stopping' ? 'stopping' : 'not answering';
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ------------------------------------------------------------------ polling

export interface PollEnv {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  /** Whether the page can be seen. */
  visible(): boolean;
  /** Calls fn whenever the page's visibility changes; returns how to stop. */
  onVisibility(fn: () => void): () => void;
}

/**
 * Runs a task at once and then every periodMs after the previous run has finished (never two at
 * a time), while started and while the page is visible: hidden, it pauses; visible again, it runs
 * at once. A run's failure is its own business (the task reports it); polling goes on.
 */
export class Poller {
  private timer: unknown = null;
  private running = false;
  private started = false;
  private stopVisibility: (() => void) | null = null;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly periodMs: number,
    private readonly env: PollEnv,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopVisibility = this.env.onVisibility(() => this.visibilityChanged());
    if (this.env.visible()) void this.run();
  }

  stop(): void {
    this.started = false;
    this.cancelTimer();
    this.stopVisibility?.();
    this.stopVisibility = null;
  }

  get active(): boolean {
    return this.started && (this.running || this.timer !== null);
  }

  private visibilityChanged(): void {
    if (!this.started) return;
    if (!this.env.visible()) this.cancelTimer();
    else if (!this.running && this.timer === null) void this.run();
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
  }

  private async run(): Promise<void> {
    this.cancelTimer();
    this.running = true;
    try {
      await this.task();
    } catch {
      // the task shows its own errors
    } finally {
      this.running = false;
    }
    if (this.started && this.env.visible() && this.timer === null)
      this.timer = this.env.setTimeout(() => {
        this.timer = null;
        void this.run();
      }, this.periodMs);
  }
}
