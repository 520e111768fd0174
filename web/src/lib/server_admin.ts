// Server administration (docs/protocol.md section 6.6): whether the signed-in user is a server
// administrator, and the admin_* calls. The client only decides what to show: the server refuses
// every admin_* operation (forbidden) to anyone not named by its --admin flag.
import { Call } from './actions';
import { ApiError, Device } from './types';

/** One node's status and load, as admin_nodes reports it. */
export interface NodeStatus {
  node: string;
  version: string;
  started_at_ms: number;
  /** Authenticated WebSocket sessions. */
  sessions: number;
  /** Distinct users among them. */
  users: number;
  stopping: boolean;
  /** Each metric summed over its labels; a histogram as its _sum and _count. */
  metrics: Record<string, number>;
  /** The broker as this node sees it (absent from older nodes). */
  broker?: NodeBroker;
  /** The load balancers this node's live sessions came through, by address (absent from older nodes). */
  proxies?: ProxyUse[];
}

/** A node's broker: its kind and, for Redis, the masters (shards) its connections know. */
export interface NodeBroker {
  kind: string;
  cluster: boolean;
  /** Sorted by address; empty for the in-process broker. */
  shards: BrokerShard[];
}

/** One Redis master as a node's broker sees it. */
export interface BrokerShard {
  /** host:port */
  address: string;
  /** The hash slots it serves, inclusive ranges. */
  slots: [number, number][];
  /** Whether the node's connections to it are up. */
  connected: boolean;
  /** Pub/sub channels the node has subscribed on it. */
  channels: number;
}

/** A trusted proxy (--trusted-proxy) that sent X-Forwarded-For, and the node's sessions through it. */
export interface ProxyUse {
  address: string;
  sessions: number;
}

export interface NodesReply {
  nodes: NodeStatus[];
  /** Nodes the broker lists as alive that did not answer in time. */
  missing: string[];
}

export interface ServerInfo {
  version: string;
  node: string;
  /** Every option by its flag name, its effective value as text (secrets redacted by the server). */
  config: Record<string, string>;
}

export interface AdminSession {
  node: string;
  user: number;
  device: number;
  /**
   * The client's address: the peer the node sees, as address:port; for a session that came
   * through a trusted load balancer (`via`), the client's address from X-Forwarded-For, without a
   * port.
   */
  remote: string;
  /** The trusted load balancer (--trusted-proxy) the session came through; absent for a direct one. */
  via?: string;
  connected_at_ms: number;
  outbox_bytes: number;
  catching_up: boolean;
  closing: boolean;
}

export interface AdminUser {
  user: { id: number; username: string };
  devices: Device[];
  sessions: AdminSession[];
  missing: string[];
}

export interface DisconnectResult {
  revoked: boolean;
  /** Sessions closed on the nodes that answered (not given when revoking). */
  closed?: number;
  missing?: string[];
}

/** One hop of a traced message (docs/protocol.md, admin_trace): its name, node and wall time. */
export interface TraceHop {
  hop: string;
  node: string;
  at_us: number;
  [attr: string]: unknown;
}

export interface TraceReply {
  trace_id: number;
  total_us: number;
  hops: TraceHop[];
  /** A Mermaid sequence diagram of the hops. */
  mermaid: string;
  missing: string[];
}

/**
 * What admin_trace looks up: a trace id, a message by conversation and seq, or a send by its
 * sender's username and the client_id it was sent with (this also finds a send that failed).
 */
export type TraceKey = { trace_id: number } | { conv: number; seq: number } | { username: string; client_id: string };

/** The server's bounds on a send's client_id, in UTF-8 bytes (docs/protocol.md, send). */
export const MAX_CLIENT_ID_BYTES = 64;

/** What the Message trace field says it takes, and the general hint for input it does not. */
export const TRACE_INPUT_HINT = 'Enter a trace id (as 12345), a conversation and seq (as 7:12), or a sender and client id (as alice/3f2a-77).';

/** A parsed trace input: the key to ask for, or why there is none (a sentence to show as is). */
export type TraceInput = { key: TraceKey; error?: undefined } | { key: null; error: string };

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/**
 * Parses the Message trace field (surrounding blanks ignored):
 * - "12345" → trace id 12345;
 * - "7:12" or "7 12" → conversation 7, seq 12;
 * - "alice/3f2a-77" → sender alice (blanks around the name ignored) and client id "3f2a-77": split
 *   at the first '/', so the client id may itself hold a '/'; it must be 1 to 64 UTF-8 bytes.
 * Whether the username is a valid one is left to the server (invalid_field / not_found).
 */
export function parseTraceInput(text: string): TraceInput {
  const t = text.trim();
  if (t === '') return { key: null, error: TRACE_INPUT_HINT };
  const slash = t.indexOf('/');
  if (slash >= 0) {
    const username = t.slice(0, slash).trim();
    const client_id = t.slice(slash + 1);
    if (!username) return { key: null, error: 'Enter the sender’s username before the “/”, as alice/3f2a-77.' };
    if (!client_id) return { key: null, error: 'Enter the client id of the send after the “/”, as alice/3f2a-77.' };
    const bytes = utf8Length(client_id);
    if (bytes > MAX_CLIENT_ID_BYTES)
      return { key: null, error: `A client id is at most ${MAX_CLIENT_ID_BYTES} bytes; this one is ${bytes} bytes.` };
    return { key: { username, client_id } };
  }
  const pair = /^(\d*)\s*[:\s]\s*(\d*)$/.exec(t);
  if (pair && (pair[1] || pair[2])) {
    if (!pair[1]) return { key: null, error: 'Enter the conversation before the “:”, as 7:12.' };
    if (!pair[2]) return { key: null, error: 'Enter the seq after the “:”, as 7:12.' };
    const conv = Number(pair[1]);
    const seq = Number(pair[2]);
    return conv >= 1 && seq >= 1 && Number.isSafeInteger(conv) && Number.isSafeInteger(seq)
      ? { key: { conv, seq } }
      : { key: null, error: 'A conversation and a seq are whole numbers from 1 up, as 7:12.' };
  }
  if (/^\d+$/.test(t)) {
    const id = Number(t);
    return id >= 1 && Number.isSafeInteger(id) ? { key: { trace_id: id } } : { key: null, error: 'A trace id is a whole number from 1 up.' };
  }
  return { key: null, error: TRACE_INPUT_HINT };
}

/** parseTraceInput's key, or null for input it refuses. */
export function parseTraceKey(text: string): TraceKey | null {
  return parseTraceInput(text).key;
}

/** Why a send failed, from its trace's `failed` hop (attributes `error`, the code, and `message`). */
export interface SendFailure {
  error: string;
  message: string;
}

/** The failure a `failed` hop records; null for any other hop. */
export function hopFailure(h: TraceHop): SendFailure | null {
  if (h.hop !== 'failed') return null;
  return { error: typeof h.error === 'string' && h.error ? h.error : 'unknown error', message: typeof h.message === 'string' ? h.message : '' };
}

/** A failed send's reason, from its trace's first `failed` hop; null when the trace has none. */
export function traceFailure(reply: Pick<TraceReply, 'hops'>): SendFailure | null {
  for (const h of reply.hops) {
    const f = hopFailure(h);
    if (f) return f;
  }
  return null;
}

/** A hop's attributes besides hop, node and at_us, as "name value" pairs joined by " · ". */
export function hopDetails(h: TraceHop, skip: readonly string[] = []): string {
  return Object.entries(h)
    .filter(([k]) => k !== 'hop' && k !== 'node' && k !== 'at_us' && !skip.includes(k))
    .map(([k, v]) => `${k} ${v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}

/** unknown until admin_server has answered (or failed for good). */
export type AdminRole = 'unknown' | 'admin' | 'not_admin';

export class ServerAdmin {
  role: AdminRole = 'unknown';
  /** admin_server's answer from the check, for the view to start with. */
  info: ServerInfo | null = null;
  private checking = false;

  constructor(
    private readonly call: Call,
    private readonly changed: () => void,
  ) {}

  /**
   * Asks admin_server once. `forbidden` (or any other final error, e.g. a server without the
   * operation) means not an administrator; a failure that may pass (no network, busy, rate
   * limited) leaves the role unknown, and the next check() asks again.
   */
  async check(): Promise<void> {
    if (this.role !== 'unknown' || this.checking) return;
    this.checking = true;
    try {
      this.info = await this.call<ServerInfo>('admin_server', {});
      this.role = 'admin';
    } catch (e) {
      if (!(e instanceof ApiError) || !e.retryable) this.role = 'not_admin';
    } finally {
      this.checking = false;
      this.changed();
    }
  }

  async server(): Promise<ServerInfo> {
    this.info = await this.call<ServerInfo>('admin_server', {});
    return this.info;
  }

  nodes(): Promise<NodesReply> {
    return this.call<NodesReply>('admin_nodes', {});
  }

  user(username: string): Promise<AdminUser> {
    return this.call<AdminUser>('admin_user', { username });
  }

  trace(key: TraceKey): Promise<TraceReply> {
    return this.call<TraceReply>('admin_trace', key);
  }

  /** Closes the device's sessions on every node; with revoke, also signs the device out. */
  disconnect(username: string, deviceId: number, revoke: boolean): Promise<DisconnectResult> {
    return this.call<DisconnectResult>('admin_disconnect', { username, device_id: deviceId, ...(revoke ? { revoke: true } : {}) });
  }
}
