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
  /** The peer the node sees (the load balancer's address behind one). */
  remote: string;
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

/** What admin_trace looks up: a trace id, or a message by conversation and seq. */
export type TraceKey = { trace_id: number } | { conv: number; seq: number };

/** "12345" → a trace id; "7:12" or "7 12" → conversation 7, seq 12; anything else → null. */
export function parseTraceKey(text: string): TraceKey | null {
  const t = text.trim();
  const pair = /^(\d+)\s*[:\s]\s*(\d+)$/.exec(t);
  if (pair) {
    const conv = Number(pair[1]);
    const seq = Number(pair[2]);
    return conv >= 1 && seq >= 1 && Number.isSafeInteger(conv) && Number.isSafeInteger(seq) ? { conv, seq } : null;
  }
  if (/^\d+$/.test(t)) {
    const id = Number(t);
    return id >= 1 && Number.isSafeInteger(id) ? { trace_id: id } : null;
  }
  return null;
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
