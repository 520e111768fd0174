// The Administration view, for server administrators only (docs/protocol.md section 6.6): the
// live topology (admin_nodes once a second while the view is open and the tab visible), a user's
// devices and sessions with Disconnect and Revoke, one message's trace (by trace id, conv:seq or
// sender/client id: a timeline, the hops' table and the sequence diagram, trace_ui.tsx), and the
// server's version and configuration.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { AdminUser, hopDetails, hopFailure, parseTraceInput, ServerInfo, TraceHop, TraceKey, traceFailure, TraceReply } from '../lib/server_admin';
import {
  brokerView,
  formatBytes,
  mergeProxies,
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
import { AdminTable } from './admin_table';
import { Confirm } from './dialogs';
import { errorText } from './errors';
import { ago, listTime } from './format';
import { version } from './state';
import { Deployment, NodesTable, ProxiesTable, ShardsTable, TopologyDiagram } from './topology_ui';
import { MermaidSource, TraceDiagram, TraceTimeline } from './trace_ui';

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
  const d: Deployment | null = views && {
    views,
    broker: brokerView(views, info?.config ?? null),
    storage: info ? storageOf(info.config) : null,
    proxies: mergeProxies(views),
  };
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
      {d && (
        <>
          <TopologyDiagram d={d} now={now} />
          <NodesTable d={d} now={now} />
          <ShardsTable broker={d.broker} />
          <ProxiesTable proxies={d.proxies} />
        </>
      )}
    </section>
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
          <AdminTable name="devices" caption="Devices" columns={['Device', 'Added', 'Last active', 'Status', 'Live sessions', 'Actions']}>
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
          </AdminTable>
          {asking && (
            <Confirm
              text={`Revoke “${asking.name}” (#${asking.device_id}) of ${found.user.username}?`}
              detail="The device is signed out everywhere: its sessions close and it must sign in again. This cannot be undone."
              confirmLabel="Revoke"
              onCancel={() => setAsking(null)}
              onConfirm={() => void disconnect(asking, true)}
            />
          )}
          <AdminTable name="sessions" caption="Live sessions" columns={['Node', 'Device', 'Remote', 'Via', 'Connected since', 'Outbox', 'State']}>
            {found.sessions.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
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
                <td class="via" title={s.via ? 'The load balancer this session came through' : 'Connected directly'}>
                  {s.via || '—'}
                </td>
                <td>{new Date(s.connected_at_ms).toLocaleString()}</td>
                <td class="num">{formatBytes(s.outbox_bytes)}</td>
                <td>{s.closing ? 'closing' : s.catching_up ? 'catching up' : 'live'}</td>
              </tr>
            ))}
          </AdminTable>
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
    const parsed = parseTraceInput(text);
    setFound(null);
    if (!parsed.key) {
      setError(parsed.error);
      return;
    }
    setError('');
    setBusy(true);
    try {
      setFound(await c.server.trace(parsed.key));
    } catch (err) {
      setError(traceError(err, parsed.key));
    } finally {
      setBusy(false);
    }
  }

  const start = found?.hops[0]?.at_us ?? 0;
  const failure = found && traceFailure(found);
  return (
    <section class="admin-section" aria-labelledby="trace-title">
      <h3 id="trace-title">Message trace</h3>
      <form class="lookup-form" role="search" aria-label="Trace a message" onSubmit={submit}>
        <label>
          Trace id, conversation:seq, or sender/client id
          <input name="admin-trace" value={text} maxLength={200} autocomplete="off" spellcheck={false} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
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
          {failure && (
            <p class="notice trace-failure" data-testid="trace-failure">
              The send failed: <code>{failure.error}</code>
              {failure.message && <> — {failure.message}</>}
            </p>
          )}
          <TraceTimeline trace={found} />
          <AdminTable name="trace" caption="Hops, oldest first (times from the first hop, each node's clock)" columns={['At (ms)', 'Hop', 'Node', 'Details']}>
            {found.hops.map((h, i) => (
              <tr key={i} data-hop={h.hop} class={h.hop === 'failed' ? 'hop-failed' : undefined}>
                <td>{((h.at_us - start) / 1000).toFixed(3)}</td>
                <th scope="row">{h.hop}</th>
                <td>{shortNode(h.node)}</td>
                <HopDetails h={h} />
              </tr>
            ))}
          </AdminTable>
          <TraceDiagram trace={found} />
          <MermaidSource text={found.mermaid} />
        </div>
      )}
    </section>
  );
}

/** A hop's attributes; a failed send's error code and message first, set apart. */
function HopDetails({ h }: { h: TraceHop }) {
  const failure = hopFailure(h);
  if (!failure) return <td>{hopDetails(h)}</td>;
  const rest = hopDetails(h, ['error', 'message']);
  return (
    <td class="hop-failure">
      <strong>
        error <code>{failure.error}</code>
      </strong>
      {failure.message && <>: {failure.message}</>}
      {rest && <> · {rest}</>}
    </td>
  );
}

function traceError(e: unknown, key: TraceKey): string {
  if (e instanceof ApiError && e.code === 'not_found')
    return 'username' in key
      ? `No node holds a traced send by “${key.username}” with client id “${key.client_id}” (it was not traced, it is forgotten, or there is no such user).`
      : 'No node holds a trace of this message (it was not traced, or it is forgotten).';
  if (e instanceof ApiError && e.code === 'invalid_field' && 'username' in key)
    return `“${key.username}/${key.client_id}” cannot be traced: ${e.message.replace(/^field (\w+) /, 'the $1 ')}.`;
  return errorText(e);
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
          <AdminTable name="config" caption="Configuration (as this node runs it; secrets are not shown)" columns={['Option', 'Value']}>
            {Object.entries(info.config).map(([k, v]) => (
              <tr key={k}>
                <th scope="row">
                  <code>--{k}</code>
                </th>
                <td>{shownConfigValue(k, v) || <span class="muted">(empty)</span>}</td>
              </tr>
            ))}
          </AdminTable>
        </>
      )}
    </section>
  );
}
