// The Administration view, for server administrators only (docs/protocol.md section 6.6): the
// live topology (admin_nodes once a second while the view is open and the tab visible), a user's
// devices and sessions with Disconnect and Revoke, and the server's version and configuration.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { AdminUser, parseTraceKey, ServerInfo, TraceReply } from '../lib/server_admin';
import {
  brokerOf,
  formatBytes,
  formatPercent,
  formatRate,
  formatUptime,
  Health,
  healthText,
  NodeView,
  plural,
  Poller,
  PollEnv,
  shortNode,
  shownConfigValue,
  storageOf,
  Topology,
  total,
} from '../lib/topology';
import { ApiError, Device } from '../lib/types';
import { Confirm } from './dialogs';
import { errorText } from './errors';
import { ago, listTime } from './format';
import { version } from './state';

const POLL_MS = 1000;

const browserPollEnv: PollEnv = {
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (h) => window.clearTimeout(h as number),
  visible: () => document.visibilityState === 'visible',
  onVisibility: (fn) => {
    document.addEventListener('visibilitychange', fn);
    return () => document.removeEventListener('visibilitychange', fn);
  },
};

export function AdminView({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const heading = useRef<HTMLHeadingElement>(null);
  const [info, setInfo] = useState<ServerInfo | null>(c.server.info);
  const [infoError, setInfoError] = useState('');
  // What opened the view gets focus back when it closes (as dialogs do).
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useLayoutEffect(() => {
    heading.current?.focus();
    const root = heading.current?.closest('.admin-view');
    return () => {
      const now = document.activeElement;
      if (opener?.isConnected && (!now || now === document.body || root?.contains(now))) opener.focus();
    };
  }, []);
  useEffect(() => {
    c.server.server().then(setInfo, (e) => setInfoError(errorText(e)));
  }, []);
  return (
    <section class="admin-view" aria-labelledby="admin-title">
      <header class="admin-head">
        <h2 id="admin-title" ref={heading} tabIndex={-1}>
          Administration
        </h2>
        <button onClick={close}>Close administration</button>
      </header>
      <TopologySection c={c} info={info} />
      <UserLookup c={c} />
      <TraceSection c={c} />
      <ServerSection info={info} error={infoError} />
    </section>
  );
}

// ------------------------------------------------------------------ live topology

function TopologySection({ c, info }: { c: ChatClient; info: ServerInfo | null }) {
  const [views, setViews] = useState<NodeView[] | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [error, setError] = useState('');
  const [polls, setPolls] = useState(0);
  useEffect(() => {
    const topology = new Topology();
    let live = true;
    const poller = new Poller(
      async () => {
        try {
          const reply = await c.server.nodes();
          if (!live) return;
          setViews(topology.update(reply, performance.now()));
          setNow(Date.now());
          setPolls((n) => n + 1);
          setError('');
        } catch (e) {
          if (live) setError(errorText(e));
        }
      },
      POLL_MS,
      browserPollEnv,
    );
    poller.start();
    return () => {
      live = false;
      poller.stop();
    };
  }, []);
  const answering = views?.filter((v) => v.health !== 'missing') ?? [];
  const missing = views?.filter((v) => v.health === 'missing') ?? [];
  return (
    <section class="admin-section" aria-labelledby="topology-title" data-polls={polls}>
      <h3 id="topology-title">Live topology</h3>
      <p class="muted">
        {views
          ? `${plural(answering.length, 'node')} answering${missing.length ? `, ${missing.length} not answering` : ''} · ${plural(
              total(views, (v) => v.status?.sessions ?? null) ?? 0,
              'session',
            )} · updated every second while this page is shown. Rates need two updates.`
          : 'Asking every node…'}
      </p>
      <p class="error" role="alert">
        {error}
      </p>
      {views && (
        <>
          <TopologyDiagram views={views} info={info} now={now} />
          <NodesTable views={views} now={now} />
        </>
      )}
    </section>
  );
}

// The diagram's geometry, in SVG user units (the drawing scales to the width it is given).
const CLIENTS = { x: 8, w: 196, h: 112 };
const NODE = { x: 256, w: 276, h: 186, gap: 18 };
const SIDE = { x: 588, w: 236 };
const BROKER_H = 118;
const DB_H = 92;
const PAD = 10;
const LINE = 19;
const WIDTH = SIDE.x + SIDE.w + 8;

function TopologyDiagram({ views, info, now }: { views: NodeView[]; info: ServerInfo | null; now: number }) {
  const n = Math.max(1, views.length);
  const nodesH = n * NODE.h + (n - 1) * NODE.gap;
  const sideH = BROKER_H + 48 + DB_H;
  const inner = Math.max(nodesH, sideH, CLIENTS.h);
  const height = inner + 2 * PAD;
  const nodeY = (i: number) => PAD + (inner - nodesH) / 2 + i * (NODE.h + NODE.gap);
  const clientsY = PAD + (inner - CLIENTS.h) / 2;
  const brokerY = PAD + (inner - sideH) / 2;
  const dbY = brokerY + BROKER_H + 48;
  const broker = info ? brokerOf(info.config) : null;
  const storage = info ? storageOf(info.config) : null;
  const sessions = total(views, (v) => v.status?.sessions ?? null) ?? 0;
  const users = total(views, (v) => v.status?.users ?? null) ?? 0;
  const published = total(views, (v) => v.rates.published);
  const received = total(views, (v) => v.rates.received);
  const sends = total(views, (v) => v.rates.sends);
  const summary = [
    `${plural(views.filter((v) => v.health !== 'missing').length, 'node')} answering`,
    ...views.filter((v) => v.health !== 'answering').map((v) => `node ${shortNode(v.id)} ${healthText(v.health)}`),
    broker ? `broker: ${broker.label}${broker.addresses.length ? ' at ' + broker.addresses.join(', ') : ''}` : '',
    storage ? `database: ${storage.label}${storage.detail ? ' ' + storage.detail : ''}` : '',
  ].filter(Boolean);
  const curve = (x1: number, y1: number, x2: number, y2: number) => {
    const mx = (x1 + x2) / 2;
    return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
  };
  return (
    <div class="topology-wrap" role="region" aria-label="Deployment diagram" tabIndex={0}>
      <svg class="topology" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby="topology-svg-title topology-svg-desc">
        <title id="topology-svg-title">Deployment diagram</title>
        <desc id="topology-svg-desc">{summary.join('; ')}. The figures are in the table below.</desc>
        <g class="edges">
          {views.map((v, i) => {
            const y = nodeY(i) + NODE.h / 2;
            const cls = `edge ${v.health}`;
            return (
              <g key={v.id}>
                <path class={cls} d={curve(CLIENTS.x + CLIENTS.w, clientsY + CLIENTS.h / 2, NODE.x, y)} />
                <path class={cls} d={curve(NODE.x + NODE.w, y - 16, SIDE.x, brokerY + BROKER_H / 2)} />
                <path class={cls} d={curve(NODE.x + NODE.w, y + 16, SIDE.x, dbY + DB_H / 2)} />
              </g>
            );
          })}
        </g>
        <g class="clients">
          <rect class="box" x={CLIENTS.x} y={clientsY} width={CLIENTS.w} height={CLIENTS.h} rx={8} />
          <text x={CLIENTS.x + 12} y={clientsY + 24} class="title">
            Clients
          </text>
          <text x={CLIENTS.x + 12} y={clientsY + 24 + LINE} class="faint">
            through the load balancer
          </text>
          <text x={CLIENTS.x + 12} y={clientsY + 24 + 2 * LINE}>
            {plural(sessions, 'session')}
          </text>
          <text x={CLIENTS.x + 12} y={clientsY + 24 + 3 * LINE}>
            {plural(users, 'user')}
          </text>
        </g>
        {views.map((v, i) => (
          <NodeBox key={v.id} v={v} x={NODE.x} y={nodeY(i)} now={now} />
        ))}
        <g class="broker" data-broker={broker?.kind ?? ''}>
          <rect class={`box ${broker?.kind === 'inproc' ? 'inproc' : ''}`} x={SIDE.x} y={brokerY} width={SIDE.w} height={BROKER_H} rx={8} />
          <text x={SIDE.x + 12} y={brokerY + 24} class="title">
            {broker ? (broker.kind === 'redis' ? 'Broker: Redis' : broker.kind === 'inproc' ? 'Broker: in-process' : `Broker: ${broker.label}`) : 'Broker'}
          </text>
          {broker?.kind === 'inproc' && (
            <text x={SIDE.x + 12} y={brokerY + 24 + LINE} class="faint">
              inside the node: one node only
            </text>
          )}
          {broker?.kind === 'redis' &&
            broker.addresses.slice(0, 2).map((a, k) => (
              <text key={a} x={SIDE.x + 12} y={brokerY + 24 + (k + 1) * LINE} class="faint">
                {k === 1 && broker.addresses.length > 2 ? `${clip(a, 22)} +${broker.addresses.length - 2}` : clip(a, 28)}
              </text>
            ))}
          <text x={SIDE.x + 12} y={brokerY + 24 + 3 * LINE}>
            {formatRate(published)} published/s
          </text>
          <text x={SIDE.x + 12} y={brokerY + 24 + 4 * LINE}>
            {formatRate(received)} received/s
          </text>
        </g>
        <g class="database" data-storage={storage?.kind ?? ''}>
          <rect class="box" x={SIDE.x} y={dbY} width={SIDE.w} height={DB_H} rx={8} />
          <text x={SIDE.x + 12} y={dbY + 24} class="title">
            {storage ? `Database: ${storage.label}` : 'Database'}
          </text>
          {storage?.detail && (
            <text x={SIDE.x + 12} y={dbY + 24 + LINE} class="faint">
              <title>{storage.detail}</title>
              {clip(storage.detail, 30)}
            </text>
          )}
          <text x={SIDE.x + 12} y={dbY + 24 + 2 * LINE}>
            {formatRate(sends)} sends/s
          </text>
        </g>
      </svg>
    </div>
  );
}

function NodeBox({ v, x, y, now }: { v: NodeView; x: number; y: number; now: number }) {
  const s = v.status;
  const r = v.rates;
  const t = (k: number) => y + 24 + k * LINE;
  const tx = x + 12;
  return (
    <g class={`node ${v.health}`} data-node={v.id} data-health={v.health}>
      <rect class={`box ${v.health}`} x={x} y={y} width={NODE.w} height={NODE.h} rx={8} />
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
    </g>
  );
}

function healthMark(h: Health): string {
  return h === 'answering' ? '●' : h === 'stopping' ? '◐' : '○';
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function NodesTable({ views, now }: { views: NodeView[]; now: number }) {
  return (
    <div class="table-wrap" role="region" aria-labelledby="nodes-caption" tabIndex={0}>
      <table class="admin-table nodes-table">
        <caption id="nodes-caption">Nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Health</th>
            <th scope="col">Version</th>
            <th scope="col">Up</th>
            <th scope="col">Sessions</th>
            <th scope="col">Users</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">Ops/s</th>
            <th scope="col">Sends/s</th>
            <th scope="col">Live deliveries/s</th>
            <th scope="col">Broker out/s</th>
            <th scope="col">Broker in/s</th>
          </tr>
        </thead>
        <tbody>
          {views.map((v) => {
            const s = v.status;
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
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

// ------------------------------------------------------------------ user lookup

function UserLookup({ c }: { c: ChatClient }) {
  const [name, setName] = useState('');
  const [found, setFound] = useState<AdminUser | null>(null);
  const [error, setError] = useState('');
  const [outcome, setOutcome] = useState('');
  const [asking, setAsking] = useState<Device | null>(null);
  const [busy, setBusy] = useState(false);

  async function lookup(username: string, keepOutcome = false): Promise<void> {
    setError('');
    if (!keepOutcome) setOutcome('');
    setAsking(null);
    try {
      setFound(await c.server.user(username));
    } catch (e) {
      setFound(null);
      setError(lookupError(e, username));
    }
  }

  async function submit(e: Event) {
    e.preventDefault();
    const u = name.trim();
    if (!u) {
      setError('Enter a username.');
      return;
    }
    setBusy(true);
    await lookup(u);
    setBusy(false);
  }

  async function disconnect(d: Device, revoke: boolean) {
    if (!found) return;
    const username = found.user.username;
    setAsking(null);
    setError('');
    setOutcome('');
    setBusy(true);
    try {
      const r = await c.server.disconnect(username, d.device_id, revoke);
      const missing = r.missing?.length ? ` Not answering, so not counted: ${r.missing.map(shortNode).join(', ')}.` : '';
      setOutcome(
        revoke
          ? `Revoked “${d.name}” of ${username}: it is signed out and its sessions are closed.`
          : `Disconnected “${d.name}” of ${username}: ${plural(r.closed ?? 0, 'session')} closed. It may reconnect at once (its sign-in stays valid).${missing}`,
      );
      await lookup(username, true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const sessionsOf = (device: number) => found?.sessions.filter((s) => s.device === device) ?? [];
  const deviceName = (id: number) => found?.devices.find((d) => d.device_id === id)?.name ?? `device ${id}`;
  return (
    <section class="admin-section" aria-labelledby="lookup-title">
      <h3 id="lookup-title">User lookup</h3>
      <form class="lookup-form" role="search" aria-label="Look up a user" onSubmit={submit}>
        <label>
          Username
          <input name="admin-username" value={name} maxLength={32} autocomplete="off" spellcheck={false} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          Look up
        </button>
      </form>
      <p class="error" role="alert" data-testid="lookup-error">
        {error}
      </p>
      <p class="outcome" role="status" data-testid="lookup-outcome">
        {outcome}
      </p>
      {found && (
        <div class="lookup-result" data-user={found.user.username}>
          <h4>
            {found.user.username} <span class="muted">(user {found.user.id})</span>
          </h4>
          {found.missing.length > 0 && (
            <p class="notice">Not answering (sessions there are not listed): {found.missing.map(shortNode).join(', ')}.</p>
          )}
          <div class="table-wrap" role="region" aria-labelledby="devices-caption" tabIndex={0}>
            <table class="admin-table devices-table">
              <caption id="devices-caption">Devices</caption>
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Added</th>
                  <th scope="col">Last active</th>
                  <th scope="col">Status</th>
                  <th scope="col">Live sessions</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {found.devices.map((d) => (
                  <tr key={d.device_id} data-device={d.device_id}>
                    <th scope="row">
                      {d.name} <span class="muted">#{d.device_id}</span>
                    </th>
                    <td>{listTime(d.created_ts)}</td>
                    <td>{d.last_active_ms ? ago(d.last_active_ms) : '—'}</td>
                    <td class="status">{d.revoked_ts ? `revoked ${listTime(d.revoked_ts)}` : 'signed in'}</td>
                    <td class="num">{sessionsOf(d.device_id).length}</td>
                    <td class="actions">
                      {!d.revoked_ts && (
                        <span class="row-actions">
                          <button disabled={busy} aria-label={`Disconnect ${d.name} #${d.device_id}`} onClick={() => void disconnect(d, false)}>
                            Disconnect
                          </button>
                          <button class="danger" disabled={busy} aria-label={`Revoke ${d.name} #${d.device_id}`} onClick={() => setAsking(d)}>
                            Revoke…
                          </button>
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {asking && (
            <Confirm
              text={`Revoke “${asking.name}” (#${asking.device_id}) of ${found.user.username}?`}
              detail="The device is signed out everywhere: its sessions close and it must sign in again. This cannot be undone."
              confirmLabel="Revoke"
              onCancel={() => setAsking(null)}
              onConfirm={() => void disconnect(asking, true)}
            />
          )}
          <div class="table-wrap" role="region" aria-labelledby="sessions-caption" tabIndex={0}>
            <table class="admin-table sessions-table">
              <caption id="sessions-caption">Live sessions</caption>
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Device</th>
                  <th scope="col">Remote</th>
                  <th scope="col">Connected since</th>
                  <th scope="col">Outbox</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {found.sessions.length === 0 && (
                  <tr>
                    <td colSpan={6} class="muted">
                      No live sessions.
                    </td>
                  </tr>
                )}
                {found.sessions.map((s, i) => (
                  <tr key={`${s.node}-${s.device}-${s.connected_at_ms}-${i}`} data-session-device={s.device}>
                    <td title={s.node}>{shortNode(s.node)}</td>
                    <td>
                      {deviceName(s.device)} <span class="muted">#{s.device}</span>
                    </td>
                    <td>{s.remote}</td>
                    <td>{new Date(s.connected_at_ms).toLocaleString()}</td>
                    <td class="num">{formatBytes(s.outbox_bytes)}</td>
                    <td>{s.closing ? 'closing' : s.catching_up ? 'catching up' : 'live'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}

function lookupError(e: unknown, username: string): string {
  if (e instanceof ApiError && e.code === 'not_found') return `No user is called “${username}”.`;
  if (e instanceof ApiError && e.code === 'invalid_field') return `“${username}” is not a valid username: ${e.message.replace(/^field username /, 'a username ')}.`;
  return errorText(e);
}

// ------------------------------------------------------------------ message trace

function TraceSection({ c }: { c: ChatClient }) {
  const [text, setText] = useState('');
  const [found, setFound] = useState<TraceReply | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    const key = parseTraceKey(text);
    setFound(null);
    if (!key) {
      setError('Enter a trace id, or a conversation and seq as 7:12.');
      return;
    }
    setError('');
    setBusy(true);
    try {
      setFound(await c.server.trace(key));
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'not_found' ? 'No node holds a trace of this message (it was not traced, or it is forgotten).' : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const start = found?.hops[0]?.at_us ?? 0;
  return (
    <section class="admin-section" aria-labelledby="trace-title">
      <h3 id="trace-title">Message trace</h3>
      <form class="lookup-form" role="search" aria-label="Trace a message" onSubmit={submit}>
        <label>
          Trace id, or conversation:seq
          <input name="admin-trace" value={text} maxLength={40} autocomplete="off" spellcheck={false} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          Trace
        </button>
      </form>
      <p class="error" role="alert" data-testid="trace-error">
        {error}
      </p>
      {found && (
        <div class="trace-result" data-trace={found.trace_id}>
          <p>
            Trace {found.trace_id}: {found.hops.length} hops in {(found.total_us / 1000).toFixed(3)} ms
            {found.missing.length > 0 && <> (not answering: {found.missing.map(shortNode).join(', ')})</>}
          </p>
          <div class="table-wrap" role="region" aria-labelledby="trace-caption" tabIndex={0}>
            <table class="admin-table trace-table">
              <caption id="trace-caption">Hops, oldest first (times from the first hop, each node's clock)</caption>
              <thead>
                <tr>
                  <th scope="col">At (ms)</th>
                  <th scope="col">Hop</th>
                  <th scope="col">Node</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {found.hops.map((h, i) => (
                  <tr key={i} data-hop={h.hop}>
                    <td>{((h.at_us - start) / 1000).toFixed(3)}</td>
                    <th scope="row">{h.hop}</th>
                    <td>{shortNode(h.node)}</td>
                    <td>
                      {Object.entries(h)
                        .filter(([k]) => k !== 'hop' && k !== 'node' && k !== 'at_us')
                        .map(([k, v]) => `${k} ${String(v)}`)
                        .join(' · ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <details>
            <summary>Mermaid sequence diagram</summary>
            <pre class="mermaid-source" data-testid="trace-mermaid">{found.mermaid}</pre>
          </details>
        </div>
      )}
    </section>
  );
}

// ------------------------------------------------------------------ server

function ServerSection({ info, error }: { info: ServerInfo | null; error: string }) {
  return (
    <section class="admin-section" aria-labelledby="server-title">
      <h3 id="server-title">Server</h3>
      <p class="error" role="alert">
        {error}
      </p>
      {!info ? (
        !error && <p class="muted">Loading…</p>
      ) : (
        <>
          <dl class="server-facts">
            <dt>Version</dt>
            <dd data-testid="server-version">{info.version}</dd>
            <dt>Node</dt>
            <dd>{info.node}</dd>
          </dl>
          <div class="table-wrap" role="region" aria-labelledby="config-caption" tabIndex={0}>
            <table class="admin-table config-table">
              <caption id="config-caption">Configuration (as this node runs it; secrets are not shown)</caption>
              <thead>
                <tr>
                  <th scope="col">Option</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(info.config).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">
                      <code>--{k}</code>
                    </th>
                    <td>{shownConfigValue(k, v) || <span class="muted">(empty)</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
