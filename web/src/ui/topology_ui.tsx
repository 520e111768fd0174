// The live topology's drawing and tables (the Administration view polls admin_nodes and gives them
// each answer): the clients, the load balancers the nodes' sessions came through, every node, the
// broker (Redis's masters as the nodes see them, or the configuration's word from older nodes)
// and the database, with the same figures in tables below.
import {
  BrokerView,
  compactSlots,
  formatBytes,
  formatPercent,
  formatRate,
  formatSlots,
  formatUptime,
  Health,
  healthText,
  nodeBroker,
  NodeView,
  plural,
  ProxyView,
  reachedDirectly,
  ShardView,
  shortNode,
  slotCount,
  SLOTS,
  StorageInfo,
  total,
} from '../lib/topology';
import { AdminTable } from './admin_table';

export interface Deployment {
  views: NodeView[];
  broker: BrokerView | null;
  storage: StorageInfo | null;
  proxies: ProxyView[];
}

// The diagram's geometry, in SVG user units (the drawing scales to the width it is given).
const CLIENTS = { x: 8, w: 196, h: 112 };
const LB = { w: 172, h: 94, gap: 18 };
const NODE = { w: 276, h: 186, gap: 18 };
const SIDE = { w: 236 };
/** Space between the columns: clients to the next, load balancers to nodes, nodes to the broker. */
const GAP = { clients: 52, lb: 64, side: 88 };
const BROKER_H = 118;
/** The broker box's own lines, above its shards. */
const BROKER_HEAD = 96;
const SHARD = { h: 76, gap: 10, inset: 12 };
const DB_H = 92;
const DB_GAP = 48;
/** Room for the edges that go round the load balancers. */
const AROUND = 28;
const PAD = 10;
const LINE = 19;

type Point = [number, number];

/** The edges' curve: leaves and arrives horizontally. */
function curve([x1, y1]: Point, [x2, y2]: Point): string {
  const mx = (x1 + x2) / 2;
  return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
}

/** curve(a, b) that runs straight from x1 to x2 at height y on the way, to go round something. */
function curveAround(a: Point, [x1, x2, y]: [number, number, number], b: Point): string {
  return `${curve(a, [x1, y])} L${x2},${y} ${curve([x2, y], b).replace(/^M[^C]*/, '')}`;
}

/** The point a share t of the way along curve(a, b), for an edge's label. */
function along([x1, y1]: Point, [x2, y2]: Point, t: number): Point {
  const mx = (x1 + x2) / 2;
  const u = 1 - t;
  const [k0, k1, k2, k3] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return [k0 * x1 + (k1 + k2) * mx + k3 * x2, (k0 + k1) * y1 + (k2 + k3) * y2];
}

/** An edge's width for what goes along it (channels, sessions): thicker for more, not in proportion. */
function weight(n: number): string {
  return (1.5 + Math.min(3, Math.log2(1 + n) / 2)).toFixed(2);
}

/** Where everything goes: columns left to right, each centred on the tallest. */
interface Layout {
  width: number;
  height: number;
  lbX: number;
  nodeX: number;
  sideX: number;
  nodeH: number;
  clientsY: number;
  brokerY: number;
  brokerH: number;
  dbY: number;
  nodeY(i: number): number;
  lbY(k: number): number;
  shardY(k: number): number;
  /** A client's edge straight to a node: round the load balancers when there are any. */
  direct(to: Point): string;
}

function layout({ views, broker, proxies }: Deployment): Layout {
  const shards = broker?.source === 'nodes' ? broker.shards : [];
  // Columns: clients, the load balancers when the nodes report any, the nodes, broker and database.
  const lbX = CLIENTS.x + CLIENTS.w + GAP.clients;
  const nodeX = proxies.length ? lbX + LB.w + GAP.lb : CLIENTS.x + CLIENTS.w + GAP.clients;
  const sideX = nodeX + NODE.w + GAP.side;
  const n = Math.max(1, views.length);
  const nodeH = NODE.h + (broker?.differs.length ? LINE : 0);
  const nodesH = n * nodeH + (n - 1) * NODE.gap;
  const lbsH = proxies.length * LB.h + Math.max(0, proxies.length - 1) * LB.gap;
  const brokerH = shards.length ? BROKER_HEAD + shards.length * (SHARD.h + SHARD.gap) : BROKER_H;
  const sideH = brokerH + DB_GAP + DB_H;
  // Room above and below the load balancers for the edges of clients that reach nodes directly.
  const inner = Math.max(nodesH, sideH, proxies.length ? lbsH + 2 * AROUND : 0, CLIENTS.h);
  const lbTop = PAD + (inner - lbsH) / 2;
  const clientsY = PAD + (inner - CLIENTS.h) / 2;
  const brokerY = PAD + (inner - sideH) / 2;
  const clientsOut: Point = [CLIENTS.x + CLIENTS.w, clientsY + CLIENTS.h / 2];
  return {
    width: sideX + SIDE.w + 8,
    height: inner + 2 * PAD,
    lbX,
    nodeX,
    sideX,
    nodeH,
    clientsY,
    brokerY,
    brokerH,
    dbY: brokerY + brokerH + DB_GAP,
    nodeY: (i) => PAD + (inner - nodesH) / 2 + i * (nodeH + NODE.gap),
    lbY: (k) => lbTop + k * (LB.h + LB.gap),
    shardY: (k) => brokerY + BROKER_HEAD + k * (SHARD.h + SHARD.gap),
    direct: (to) => {
      if (!proxies.length) return curve(clientsOut, to);
      const y = to[1] < lbTop + lbsH / 2 ? lbTop - AROUND / 2 : lbTop + lbsH + AROUND / 2;
      return curveAround(clientsOut, [lbX, lbX + LB.w, y], to);
    },
  };
}

/** One edge: its class (the node's health, or down), what it joins, and its label if any. */
interface Edge {
  key: string;
  cls: string;
  d: string;
  node?: string;
  shard?: string;
  proxy?: string;
  connected?: boolean;
  /** Thicker for more channels or sessions. */
  width?: string;
  title?: string;
  label?: { at: Point; text: string };
}

function edgesOf({ views, broker, proxies }: Deployment, L: Layout): Edge[] {
  const shards = broker?.source === 'nodes' ? broker.shards : [];
  const clientsOut: Point = [CLIENTS.x + CLIENTS.w, L.clientsY + CLIENTS.h / 2];
  const brokerIn: Point = [L.sideX, L.brokerY + (shards.length ? BROKER_HEAD : L.brokerH) / 2];
  const edges: Edge[] = proxies.map((p, k) => ({
    key: `lb ${p.address}`,
    cls: 'edge',
    d: curve(clientsOut, [L.lbX, L.lbY(k) + LB.h / 2]),
    proxy: p.address,
  }));
  views.forEach((v, i) => {
    const y = L.nodeY(i) + L.nodeH / 2;
    const into: Point = [L.nodeX, y];
    const out: Point = [L.nodeX + NODE.w, y - 16];
    const cls = `edge ${v.health}`;
    const node = v.id;
    const answering = v.health !== 'missing';
    if (!answering || reachedDirectly(v.status)) edges.push({ key: `direct ${node}`, cls: `${cls} direct`, d: L.direct(into), node });
    if (answering)
      proxies.forEach((p, k) => {
        const via = p.nodes.find((x) => x.node === node);
        if (!via) return;
        const from: Point = [L.lbX + LB.w, L.lbY(k) + LB.h / 2];
        edges.push({
          key: `lb ${p.address} ${node}`,
          cls,
          d: curve(from, into),
          node,
          proxy: p.address,
          width: weight(via.sessions),
          title: `${plural(via.sessions, 'session')} through ${p.address}`,
          label: { at: along(from, into, 0.35), text: String(via.sessions) },
        });
      });
    let linked = false;
    shards.forEach((s, k) => {
      const l = answering ? s.links.find((x) => x.node === node) : undefined;
      if (!l) return;
      linked = true;
      const to: Point = [L.sideX, L.shardY(k) + SHARD.h / 2];
      edges.push({
        key: `shard ${node} ${s.address}`,
        cls: `edge ${l.connected ? '' : 'down'}`,
        d: curve(out, to),
        node,
        shard: s.address,
        connected: l.connected,
        width: weight(l.channels),
        title: `${l.connected ? 'connected' : 'not connected'} to ${s.address}, ${plural(l.channels, 'channel')}`,
        label: { at: along(out, to, 0.6), text: l.connected ? String(l.channels) : `✕ ${l.channels}` },
      });
    });
    if (!linked) edges.push({ key: `broker ${node}`, cls, d: curve(out, brokerIn), node });
    edges.push({ key: `db ${node}`, cls, d: curve([L.nodeX + NODE.w, y + 16], [L.sideX, L.dbY + DB_H / 2]), node });
  });
  return edges;
}

export function TopologyDiagram({ d, now }: { d: Deployment; now: number }) {
  const { views, broker, storage, proxies } = d;
  const L = layout(d);
  const edges = edgesOf(d, L);
  const shards = broker?.source === 'nodes' ? broker.shards : [];
  const differs = new Set(broker?.differs ?? []);
  const sessions = total(views, (v) => v.status?.sessions ?? null) ?? 0;
  const users = total(views, (v) => v.status?.users ?? null) ?? 0;
  const attrs = (e: Edge) => ({
    'data-node': e.node,
    'data-shard': e.shard,
    'data-proxy': e.proxy,
    'data-connected': e.connected === undefined ? undefined : String(e.connected),
  });
  return (
    <div class="topology-wrap" role="region" aria-label="Deployment diagram" tabIndex={0}>
      <svg
        class={`topology ${proxies.length ? 'wide' : ''}`}
        viewBox={`0 0 ${L.width} ${L.height}`}
        role="img"
        aria-labelledby="topology-svg-title topology-svg-desc"
      >
        <title id="topology-svg-title">Deployment diagram</title>
        <desc id="topology-svg-desc">{summary(d).join('; ')}. The figures are in the tables below.</desc>
        <g class="edges">
          {edges.map((e) => (
            <path key={e.key} class={e.cls} d={e.d} style={e.width ? { strokeWidth: e.width } : undefined} {...attrs(e)}>
              {e.title && <title>{e.title}</title>}
            </path>
          ))}
        </g>
        <g class="edge-labels">
          {edges.map(
            (e) =>
              e.label && (
                <text key={e.key} class={`edge-label ${e.connected === false ? 'down' : ''}`} x={e.label.at[0]} y={e.label.at[1] + 4} {...attrs(e)}>
                  {e.label.text}
                </text>
              ),
          )}
        </g>
        <g class="clients">
          <rect class="box" x={CLIENTS.x} y={L.clientsY} width={CLIENTS.w} height={CLIENTS.h} rx={8} />
          <text x={CLIENTS.x + 12} y={L.clientsY + 24} class="title">
            Clients
          </text>
          <text x={CLIENTS.x + 12} y={L.clientsY + 24 + LINE} class="faint">
            {proxies.length ? `through ${plural(proxies.length, 'load balancer')}` : 'no load balancer seen'}
          </text>
          <text x={CLIENTS.x + 12} y={L.clientsY + 24 + 2 * LINE}>
            {plural(sessions, 'session')}
          </text>
          <text x={CLIENTS.x + 12} y={L.clientsY + 24 + 3 * LINE}>
            {plural(users, 'user')}
          </text>
        </g>
        {proxies.map((p, k) => (
          <LoadBalancerBox key={p.address} p={p} x={L.lbX} y={L.lbY(k)} />
        ))}
        {views.map((v, i) => (
          <NodeBox key={v.id} v={v} x={L.nodeX} y={L.nodeY(i)} h={L.nodeH} differs={differs.has(v.id)} now={now} />
        ))}
        <BrokerBox broker={broker} views={views} x={L.sideX} y={L.brokerY} h={L.brokerH} />
        {shards.map((s, k) => (
          <ShardBox key={s.address} s={s} x={L.sideX + SHARD.inset} y={L.shardY(k)} />
        ))}
        <g class="database" data-storage={storage?.kind ?? ''}>
          <rect class="box" x={L.sideX} y={L.dbY} width={SIDE.w} height={DB_H} rx={8} />
          <text x={L.sideX + 12} y={L.dbY + 24} class="title">
            {storage ? `Database: ${storage.label}` : 'Database'}
          </text>
          {storage?.detail && (
            <text x={L.sideX + 12} y={L.dbY + 24 + LINE} class="faint">
              <title>{storage.detail}</title>
              {clip(storage.detail, 30)}
            </text>
          )}
          <text x={L.sideX + 12} y={L.dbY + 24 + 2 * LINE}>
            {formatRate(total(views, (v) => v.rates.sends))} sends/s
          </text>
        </g>
      </svg>
    </div>
  );
}

/** What the diagram shows, in words, for those who cannot see it. */
function summary({ views, broker, storage, proxies }: Deployment): string[] {
  const shardText = (s: ShardView) => {
    const down = s.links.filter((l) => !l.connected).map((l) => shortNode(l.node));
    return `${s.address} slots ${formatSlots(s.slots)}${down.length ? ` (not connected from node ${down.join(', ')})` : ''}`;
  };
  return [
    `${plural(views.filter((v) => v.health !== 'missing').length, 'node')} answering`,
    ...views.filter((v) => v.health !== 'answering').map((v) => `node ${shortNode(v.id)} ${healthText(v.health)}`),
    ...(broker?.differs ?? []).map((id) => `node ${shortNode(id)}'s slot map differs`),
    proxies.length ? `load balancers: ${proxies.map((p) => `${p.address} (${plural(p.sessions, 'session')})`).join(', ')}` : '',
    !broker
      ? ''
      : broker.source === 'nodes' && broker.shards.length
        ? `broker: ${brokerName(broker)} with ${plural(broker.shards.length, 'shard')}: ${broker.shards.map(shardText).join(', ')}`
        : `broker: ${broker.label}${broker.addresses.length ? ' at ' + broker.addresses.join(', ') : ''}`,
    storage ? `database: ${storage.label}${storage.detail ? ' ' + storage.detail : ''}` : '',
  ].filter(Boolean);
}

function brokerName(broker: BrokerView): string {
  if (broker.kind === 'redis') return broker.cluster ? 'Redis cluster' : 'Redis';
  if (broker.kind === 'inproc') return 'in-process';
  return broker.label;
}

function BrokerBox({ broker, views, x, y, h }: { broker: BrokerView | null; views: NodeView[]; x: number; y: number; h: number }) {
  const tx = x + 12;
  const t = (k: number) => y + 24 + k * LINE;
  const shards = broker?.source === 'nodes' ? broker.shards : [];
  // With its shards drawn under them, the box's own lines come one higher.
  const rates = shards.length ? 2 : 3;
  const covered = slotCount(compactSlots(shards.flatMap((s) => s.slots)));
  return (
    <g class="broker" data-broker={broker?.kind ?? ''} data-source={broker?.source ?? ''}>
      <rect class={`box ${broker?.kind === 'inproc' ? 'inproc' : ''}`} x={x} y={y} width={SIDE.w} height={h} rx={8} />
      <text x={tx} y={t(0)} class="title">
        {broker ? `Broker: ${brokerName(broker)}` : 'Broker'}
      </text>
      {broker?.kind === 'inproc' && (
        <text x={tx} y={t(1)} class="faint">
          inside the node: one node only
        </text>
      )}
      {broker?.kind === 'redis' && broker.source === 'config' &&
        broker.addresses.slice(0, 2).map((a, k) => (
          <text key={a} x={tx} y={t(k + 1)} class="faint">
            {k === 1 && broker.addresses.length > 2 ? `${clip(a, 22)} +${broker.addresses.length - 2}` : clip(a, 28)}
          </text>
        ))}
      {broker?.kind === 'redis' && broker.source === 'nodes' && (
        <text x={tx} y={t(1)} class={shards.length && covered === SLOTS ? 'faint' : 'warn'}>
          {shards.length === 0
            ? 'no master known'
            : `${plural(shards.length, 'shard')} · ${covered === SLOTS ? 'all slots' : `${covered} of ${SLOTS} slots`}`}
        </text>
      )}
      <text x={tx} y={t(rates)}>
        {formatRate(total(views, (v) => v.rates.published))} published/s
      </text>
      <text x={tx} y={t(rates + 1)}>
        {formatRate(total(views, (v) => v.rates.received))} received/s
      </text>
    </g>
  );
}

function ShardBox({ s, x, y }: { s: ShardView; x: number; y: number }) {
  const w = SIDE.w - 2 * SHARD.inset;
  const tx = x + 10;
  const t = (k: number) => y + 22 + k * LINE;
  const slots = formatSlots(s.slots);
  const down = s.links.length - s.connected;
  return (
    <g class="shard" data-shard={s.address} data-trouble={String(s.trouble)}>
      <title>{`${s.address}: slots ${slots}`}</title>
      <rect class={`box shard ${s.trouble ? 'trouble' : ''}`} x={x} y={y} width={w} height={SHARD.h} rx={6} />
      <text x={tx} y={t(0)} class="title">
        {clip(s.address, 24)}
      </text>
      <text x={tx} y={t(1)} class="slots faint">
        {clip(`slots ${slots}`, 28)}
      </text>
      <text x={tx} y={t(2)} class={s.trouble ? 'warn' : ''}>
        {s.trouble
          ? `⚠ down from ${down} of ${plural(s.links.length, 'node')}`
          : `${plural(s.channels, 'channel')} · ${plural(s.links.length, 'node')}`}
      </text>
    </g>
  );
}

function LoadBalancerBox({ p, x, y }: { p: ProxyView; x: number; y: number }) {
  const tx = x + 12;
  const t = (k: number) => y + 24 + k * LINE;
  return (
    <g class="load-balancer" data-proxy={p.address}>
      <title>{`Load balancer ${p.address}`}</title>
      <rect class="box" x={x} y={y} width={LB.w} height={LB.h} rx={8} />
      <text x={tx} y={t(0)} class="title">
        Load balancer
      </text>
      <text x={tx} y={t(1)} class="faint">
        {clip(p.address, 22)}
      </text>
      <text x={tx} y={t(2)}>
        {plural(p.sessions, 'session')} · {plural(p.nodes.length, 'node')}
      </text>
    </g>
  );
}

function NodeBox({ v, x, y, h, differs, now }: { v: NodeView; x: number; y: number; h: number; differs: boolean; now: number }) {
  const s = v.status;
  const r = v.rates;
  const t = (k: number) => y + 24 + k * LINE;
  const tx = x + 12;
  return (
    <g class={`node ${v.health}`} data-node={v.id} data-health={v.health} data-slot-map={differs ? 'differs' : ''}>
      <rect class={`box ${v.health}`} x={x} y={y} width={NODE.w} height={h} rx={8} />
      <text x={tx} y={t(0)} class="title">
        Node {shortNode(v.id)}
      </text>
      <text x={x + NODE.w - 12} y={t(0)} text-anchor="end" class={`health ${v.health}`}>
        {healthMark(v.health)} {healthText(v.health)}
      </text>
      {!s ? (
        <text x={tx} y={t(1)} class="faint">
          no answer yet
        </text>
      ) : (
        <g class={v.health === 'missing' ? 'stale' : ''}>
          <text x={tx} y={t(1)} class="faint">
            v{s.version} · up {formatUptime(now - s.started_at_ms)}
            {v.health === 'missing' ? ' · last known' : ''}
          </text>
          <text x={tx} y={t(2)} class="sessions">
            {plural(s.sessions, 'session')} · {plural(s.users, 'user')}
          </text>
          <text x={tx} y={t(3)} class="load">
            CPU {formatPercent(r.cpuPercent)} · memory {formatBytes(s.metrics['process_resident_memory_bytes'])}
          </text>
          <text x={tx} y={t(4)} class="rates">
            {formatRate(r.operations)} ops/s · {formatRate(r.sends)} sends/s
          </text>
          <text x={tx} y={t(5)} class="deliveries">
            {formatRate(r.deliveries)} live deliveries/s
          </text>
          <text x={tx} y={t(6)} class="broker-rates">
            broker {formatRate(r.published)} out/s · {formatRate(r.received)} in/s
          </text>
          <text x={tx} y={t(7)} class="faint">
            outbox {formatBytes(s.metrics['confab_outbox_bytes'])} · {plural(s.metrics['confab_connections'] ?? 0, 'connection')}
          </text>
        </g>
      )}
      {differs && (
        <text x={tx} y={t(8)} class="slot-map warn">
          ⚠ slot map differs{nodeBroker(s)?.shards.length === 0 ? ' (none known)' : ''}
        </text>
      )}
    </g>
  );
}

function healthMark(h: Health): string {
  return h === 'answering' ? '●' : h === 'stopping' ? '◐' : '○';
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

// ------------------------------------------------------------------ the same figures in tables

export function NodesTable({ d, now }: { d: Deployment; now: number }) {
  const differs = new Set(d.broker?.differs ?? []);
  return (
    <AdminTable
      name="nodes"
      caption="Nodes"
      columns={['Node', 'Health', 'Version', 'Up', 'Sessions', 'Users', 'CPU', 'Memory', 'Ops/s', 'Sends/s', 'Live deliveries/s', 'Broker out/s', 'Broker in/s', 'Shards connected']}
    >
      {d.views.map((v) => {
        const s = v.status;
        const b = v.health === 'missing' ? null : nodeBroker(s);
        return (
          <tr key={v.id} data-node={v.id}>
            <th scope="row" title={v.id}>
              {shortNode(v.id)}
            </th>
            <td class={`health ${v.health}`}>{healthText(v.health)}</td>
            <td>{s?.version ?? '—'}</td>
            <td>{s ? formatUptime(now - s.started_at_ms) : '—'}</td>
            <td class="num">{s?.sessions ?? '—'}</td>
            <td class="num">{s?.users ?? '—'}</td>
            <td class="num">{formatPercent(v.rates.cpuPercent)}</td>
            <td class="num">{formatBytes(s?.metrics['process_resident_memory_bytes'])}</td>
            <td class="num">{formatRate(v.rates.operations)}</td>
            <td class="num">{formatRate(v.rates.sends)}</td>
            <td class="num">{formatRate(v.rates.deliveries)}</td>
            <td class="num">{formatRate(v.rates.published)}</td>
            <td class="num">{formatRate(v.rates.received)}</td>
            <td class={`shards ${differs.has(v.id) ? 'warn' : ''}`}>
              {b?.kind === 'redis' ? `${b.shards.filter((x) => x.connected).length} / ${b.shards.length}` : '—'}
              {differs.has(v.id) ? ' · slot map differs' : ''}
            </td>
          </tr>
        );
      })}
    </AdminTable>
  );
}

/** Redis's masters as the nodes report them (nothing from older nodes, nor for the in-process broker). */
export function ShardsTable({ broker }: { broker: BrokerView | null }) {
  if (broker?.source !== 'nodes' || broker.shards.length === 0) return null;
  const reporting = broker.reporting.length;
  return (
    <AdminTable name="shards" caption="Redis shards (masters), as the answering nodes see them" columns={['Master', 'Slots', 'Slot count', 'Nodes connected', 'Channels', 'State']}>
      {broker.shards.map((s) => (
        <tr key={s.address} data-shard={s.address}>
          <th scope="row">{s.address}</th>
          <td class="slots">{formatSlots(s.slots)}</td>
          <td class="num">{slotCount(s.slots)}</td>
          <td class="num">
            {s.connected} / {reporting}
          </td>
          <td class="num">{s.channels}</td>
          <td class={`state ${s.trouble ? 'warn' : ''}`}>{shardState(s, broker.reporting)}</td>
        </tr>
      ))}
    </AdminTable>
  );
}

function shardState(s: ShardView, reporting: string[]): string {
  const down = s.links.filter((l) => !l.connected).map((l) => shortNode(l.node));
  const unknown = reporting.filter((n) => !s.links.some((l) => l.node === n)).map(shortNode);
  const parts = [
    down.length ? `not connected from ${down.join(', ')}` : '',
    unknown.length ? `not known to ${unknown.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'connected';
}

/** The load balancers the nodes' sessions came through (only those the nodes trust: --trusted-proxy). */
export function ProxiesTable({ proxies }: { proxies: ProxyView[] }) {
  if (proxies.length === 0) return null;
  return (
    <AdminTable name="proxies" caption="Load balancers" columns={['Address', 'Sessions', 'Sessions per node']}>
      {proxies.map((p) => (
        <tr key={p.address} data-proxy={p.address}>
          <th scope="row">{p.address}</th>
          <td class="num">{p.sessions}</td>
          <td class="per-node">{p.nodes.map((x) => `${shortNode(x.node)}: ${x.sessions}`).join(' · ')}</td>
        </tr>
      ))}
    </AdminTable>
  );
}
