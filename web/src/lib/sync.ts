// The WebSocket half of the protocol (docs/protocol.md sections 7 and 10): hello with the stored
// stream cursor, events applied once each in pos order, requests matched to replies by id,
// reconnection with exponential backoff and jitter. No UI; the caller supplies the socket factory,
// the timers and the persistence, so the algorithm runs unchanged under node's test runner.
import { KV } from './kv';
import { ApiError, ChatEvent, connectionLost } from './types';

export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type Status = 'connecting' | 'syncing' | 'live' | 'offline' | 'revoked' | 'stopped';

export interface SyncHandlers {
  /** A stream event not seen before on this tab, in pos order. */
  event(ev: ChatEvent, pos: number): void;
  /** Live-only frames (receipt, typing, presence): never replayed. */
  ephemeral?(frame: Record<string, unknown>): void;
  status?(s: Status, detail?: { retryInMs?: number }): void;
  /** `synced` arrived: every event up to pos is processed. first = first synced of this connection. */
  synced?(pos: number, first: boolean): void;
  /** hello was refused for a stale cursor: local state was discarded; the session restarts fresh. */
  cursorReset?(): void;
}

export interface SyncOptions {
  url: string;
  token: string;
  deviceId: number;
  kv: KV;
  makeSocket(url: string): SocketLike;
  handlers: SyncHandlers;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (h: unknown) => void;
  random?: () => number;
  /** Give up on a request with no reply after this long (the connection is then recycled). */
  requestTimeoutMs?: number;
  /** While live, a connection that received nothing for this long is probed with `ping`; no
   *  reply within the same time recycles it (a dead socket is otherwise only noticed when a
   *  request times out). Off when unset. */
  pingEveryMs?: number;
  /** A connection attempt whose hello has no reply after this long is closed and retried with
   *  backoff: on a cut network the attempt can hang unanswered, with no error, indefinitely.
   *  Off when unset. */
  connectTimeoutMs?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: ApiError): void;
  timer: unknown;
}

export class SyncClient {
  private socket: SocketLike | null = null;
  private status_: Status = 'stopped';
  private pos_: number;
  private nextId = 1;
  private helloId = 0;
  private readonly pending = new Map<number, Pending>();
  private attempts = 0;
  private retryTimer: unknown = null;
  private syncedOnce = false;
  private stopped = true;
  private keepTimer: unknown = null;
  private heard = false;
  private readonly posKey: string;
  private readonly setT: (fn: () => void, ms: number) => unknown;
  private readonly clearT: (h: unknown) => void;

  constructor(private readonly o: SyncOptions) {
    this.posKey = `confab.d${o.deviceId}.pos`;
    const stored = Number(o.kv.get(this.posKey));
    this.pos_ = Number.isSafeInteger(stored) && stored > 0 ? stored : -1;
    this.setT = o.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearT = o.clearTimeout ?? ((h) => globalThis.clearTimeout(h as number));
  }

  get status(): Status {
    return this.status_;
  }
  /** The highest stream position this tab has processed (-1: none yet). */
  get pos(): number {
    return this.pos_;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) this.clearT(this.retryTimer);
    this.retryTimer = null;
    if (this.keepTimer !== null) this.clearT(this.keepTimer);
    this.keepTimer = null;
    const s = this.socket;
    this.socket = null;
    this.failPending();
    if (s) {
      s.onclose = null;
      s.close(1000, 'bye');
    }
    this.setStatus('stopped');
  }

  /** The browser says the network is gone: drop the socket now (it may look open for minutes)
   *  and wait for reconnectNow() or the backoff timer. */
  networkLost(): void {
    if (this.stopped || this.status_ === 'revoked') return;
    this.recycle();
  }

  /** Reconnect now (for example when the browser reports it is online again). */
  reconnectNow(): void {
    if (this.stopped || this.status_ === 'revoked') return;
    if (this.status_ === 'offline') {
      if (this.retryTimer !== null) this.clearT(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
  }

  /** Sends one operation over the socket once live. Rejects with ApiError; `disconnected` when the
   *  connection is lost first (the operation may still have taken effect). */
  request<T = Record<string, unknown>>(op: string, fields: Record<string, unknown> = {}): Promise<T> {
    if (this.status_ !== 'live' || !this.socket) return Promise.reject(connectionLost());
    return this.send(op, fields) as Promise<T>;
  }

  private send(op: string, fields: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
    const id = this.nextId++;
    const s = this.socket as SocketLike;
    return new Promise((resolve, reject) => {
      const timer = this.setT(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        reject(new ApiError('timeout', 'no reply from the server', true));
        this.recycle();
      }, timeoutMs ?? this.o.requestTimeoutMs ?? 15000);
      this.pending.set(id, { resolve, reject, timer });
      try {
        s.send(JSON.stringify({ ...fields, op, id }));
      } catch {
        this.pending.delete(id);
        this.clearT(timer);
        reject(connectionLost());
      }
    });
  }

  private setStatus(s: Status, detail?: { retryInMs?: number }): void {
    this.status_ = s;
    this.o.handlers.status?.(s, detail);
  }

  private connect(): void {
    this.setStatus('connecting');
    this.syncedOnce = false;
    let s: SocketLike;
    try {
      s = this.o.makeSocket(this.o.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    const limit = this.o.connectTimeoutMs;
    if (limit)
      this.setT(() => {
        if (this.socket === s && this.status_ === 'connecting') this.recycle();
      }, limit);
    s.onopen = () => {
      if (this.socket !== s) return;
      this.helloId = this.nextId++;
      const hello: Record<string, unknown> = { op: 'hello', id: this.helloId, token: this.o.token };
      if (this.pos_ >= 0) hello.since = this.pos_;
      s.send(JSON.stringify(hello));
    };
    s.onmessage = (ev) => {
      if (this.socket !== s) return;
      this.heard = true;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    s.onerror = () => {};
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.failPending();
      if (ev.code === 4001) {
        this.setStatus('revoked');
        return;
      }
      if (this.stopped) return;
      this.scheduleReconnect();
    };
  }

  private onFrame(f: Record<string, unknown>): void {
    switch (f.type) {
      case 'result':
      case 'error': {
        if (f.id === this.helloId && this.status_ === 'connecting') {
          this.onHelloReply(f);
          return;
        }
        const p = this.pending.get(f.id as number);
        if (!p) return;
        this.pending.delete(f.id as number);
        this.clearT(p.timer);
        if (f.type === 'result') p.resolve(f.data);
        else {
          const e = f.error as { code: string; message: string; retryable: boolean };
          p.reject(new ApiError(e.code, e.message, e.retryable));
        }
        return;
      }
      case 'event': {
        const pos = f.pos as number;
        if (pos <= this.pos_) return; // already processed (section 10, step 4)
        this.o.handlers.event(f.event as ChatEvent, pos);
        this.pos_ = pos;
        const stored = Number(this.o.kv.get(this.posKey) ?? 0);
        if (!(stored >= pos)) this.o.kv.set(this.posKey, String(pos)); // another tab may be ahead
        return;
      }
      case 'synced': {
        const first = !this.syncedOnce;
        this.syncedOnce = true;
        if (first) {
          this.attempts = 0;
          this.setStatus('live');
          this.keepAlive();
        }
        this.o.handlers.synced?.(f.pos as number, first);
        return;
      }
      default:
        this.o.handlers.ephemeral?.(f);
    }
  }

  private onHelloReply(f: Record<string, unknown>): void {
    if (f.type === 'result') {
      const d = f.data as { since: number };
      if (this.pos_ < 0) {
        // A fresh device starts at the head ("recent state", section 10).
        this.pos_ = d.since;
        this.o.kv.set(this.posKey, String(d.since));
      }
      this.setStatus('syncing');
      return;
    }
    const e = f.error as { code: string; message: string; retryable: boolean };
    if (e.code === 'unauthenticated') {
      const s = this.socket;
      this.socket = null;
      if (s) {
        s.onclose = null;
        s.close(1000, 'revoked');
      }
      this.failPending();
      this.setStatus('revoked');
      return;
    }
    if (e.code === 'invalid_field' && this.pos_ >= 0) {
      // The cursor is not valid for this stream (e.g. the database was restored): start fresh.
      this.pos_ = -1;
      this.o.kv.remove(this.posKey);
      this.o.handlers.cursorReset?.();
    }
    // The server closes (1008) after an invalid cursor; anything else: recycle and retry.
    this.recycle();
  }

  private keepAlive(): void {
    const every = this.o.pingEveryMs;
    if (!every || this.keepTimer !== null) return;
    this.heard = false;
    this.keepTimer = this.setT(() => {
      this.keepTimer = null;
      if (this.status_ !== 'live' || !this.socket) return;
      // A reply that never comes recycles the connection (send's timeout).
      if (!this.heard) this.send('ping', {}, every).catch(() => {});
      this.keepAlive();
    }, every);
  }

  private recycle(): void {
    const s = this.socket;
    if (!s) return;
    this.socket = null;
    s.onclose = null;
    try {
      s.close(4000, 'client reset');
    } catch {
      /* already closed */
    }
    this.failPending();
    if (!this.stopped) this.scheduleReconnect();
  }

  private failPending(): void {
    for (const p of this.pending.values()) {
      this.clearT(p.timer);
      p.reject(connectionLost());
    }
    this.pending.clear();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const base = Math.min(30000, 500 * 2 ** Math.min(this.attempts, 6));
    const delay = Math.round(base / 2 + (this.o.random ?? Math.random)() * (base / 2));
    this.attempts++;
    this.setStatus('offline', { retryInMs: delay });
    this.retryTimer = this.setT(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }
}
