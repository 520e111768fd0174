// The chat client's state and behaviour, without any UI: it owns the HTTP API, the WebSocket sync,
// the outbox, the conversation list, the open timelines, receipts, typing and presence, and tells
// its subscribers when anything changed. The views (src/ui) only read it and call its methods.
import { HttpApi } from './api';
import { ConversationList, otherMember } from './conversations';
import { KV } from './kv';
import { LocalState } from './local';
import { Names } from './names';
import { newClientId, Outbox, OutboxEntry } from './outbox';
import { PendingMessage, Sender } from './sender';
import { SocketLike, Status, SyncClient } from './sync';
import { MessageActions } from './actions';
import { ConversationAdmin, Notify } from './admin';
import { ServerAdmin } from './server_admin';
import { Threads } from './threads';
import { ChannelCursors, ChannelHead } from './channels';
import { isChange } from './changes';
import { checkText } from './limits';
import { firstPage, HistoryCall, pageAround, pageNewer, pageOlder, Timeline } from './timeline';
export { HISTORY_PAGE } from './timeline';
import { TypingFrame, TypingSender, TypingTracker } from './typing';
import { addPendingLogout } from './signout';
import { ApiError, ChannelInfo, ChatEvent, Device, Member, PresenceState, ReceiptState, Session, Summary, UserBrief } from './types';

export { MAX_TEXT_BYTES } from './limits';

export interface ClientEnv {
  http: HttpApi;
  wsUrl: string;
  kv: KV;
  makeSocket(url: string): SocketLike;
  now?: () => number;
  randomBytes?: (n: number) => Uint8Array;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (h: unknown) => void;
  /** Whether the person can see the page (read receipts are only sent then). */
  visible?: () => boolean;
  /** Probe an idle connection with ping this often (see SyncOptions.pingEveryMs). */
  pingEveryMs?: number;
  /** Give up a connection attempt without a hello reply after this long (SyncOptions). */
  connectTimeoutMs?: number;
}

export type { PendingMessage } from './sender';

export class ChatClient {
  readonly convs: ConversationList;
  readonly names: Names;
  private readonly sender: Sender;
  readonly members = new Map<number, Member[]>();
  /** Channels: the member count of the last page read, and the cursor of the next page. */
  readonly memberCount = new Map<number, number>();
  private readonly membersNext = new Map<number, number | null>();
  readonly receipts = new Map<number, Map<number, ReceiptState>>();
  readonly presence = new Map<number, PresenceState>();
  readonly typing = new TypingTracker();
  readonly outbox: Outbox;
  /** React, edit, delete (actions.ts). */
  readonly actions = new MessageActions((op, body) => this.call(op, body));
  /** Settings, pins, moderation, my notification level (admin.ts). */
  readonly admin = new ConversationAdmin((op, body) => this.call(op, body));
  /** Whether I am a server administrator, and the admin_* calls (server_admin.ts). */
  readonly server = new ServerAdmin(
    (op, body) => this.call(op, body),
    () => this.changed(),
  );
  /** The open thread and the threads I follow (threads.ts). */
  readonly threads: Threads;
  /** A cursor per channel I am in (channels.ts; protocol section 10, "Channels"). */
  readonly channels: ChannelCursors;
  /** No stored cursor at start (or it was reset): channels start at their heads. */
  private freshChannels: boolean;
  status: Status = 'stopped';
  retryInMs = 0;
  /** Set once the conversation list has loaded (from the server, or from this browser's copy). */
  loaded = false;
  /** The list shown is this browser's saved copy; the server has not answered yet. */
  fromCache = false;
  /** A message for the person about something that failed in the background. */
  notice = '';
  openConv: number | null = null;
  /** Per open conversation, the read pointer when it was opened: the unread marker sits above it. */
  readonly unreadAnchor = new Map<number, number>();
  /** Features the server does not offer (unknown_op): not asked again. */
  readonly unsupported = new Set<string>();

  private readonly sync: SyncClient;
  private readonly timelines = new Map<number, Timeline>();
  private readonly listeners = new Set<() => void>();
  private readonly typingSenders = new Map<string, TypingSender>();
  private readonly deliveredDue = new Map<number, number>();
  private deliveredTimer: unknown = null;
  private notifyQueued = false;
  private connections = 0;
  private readonly now: () => number;
  private readonly setT: (fn: () => void, ms: number) => unknown;
  private readonly clearT: (h: unknown) => void;

  constructor(
    readonly session: Session,
    private readonly env: ClientEnv,
  ) {
    this.convs = new ConversationList(session.user_id);
    this.threads = new Threads((op, body) => this.call(op, body), session.user_id, () => this.changed());
    this.outbox = new Outbox(env.kv, session.device_id);
    this.sender = new Sender({
      outbox: this.outbox,
      deviceId: session.device_id,
      live: () => this.sync.status === 'live',
      request: (op, fields) => this.sync.request(op, fields),
      timeline: (conv) => this.timelines.get(conv),
      setTimeout: (fn, ms) => this.setT(fn, ms),
      clearTimeout: (h) => this.clearT(h),
      changed: () => this.changed(),
    });
    this.names = new Names({
      fetch: async (ids) => (await this.optional('users', () => this.call<{ users: UserBrief[] }>('users', { ids })))?.users,
      setTimeout: (fn, ms) => this.setT(fn, ms),
      changed: () => this.changed(),
    });
    this.names.learn({ user_id: session.user_id, username: session.username });
    this.local = new LocalState(env.kv, `confab.d${session.device_id}`);
    this.loadCache();
    this.now = env.now ?? (() => Date.now());
    this.setT = env.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearT = env.clearTimeout ?? ((h) => globalThis.clearTimeout(h as number));
    this.sync = new SyncClient({
      url: env.wsUrl,
      token: session.token,
      deviceId: session.device_id,
      kv: env.kv,
      makeSocket: env.makeSocket,
      setTimeout: env.setTimeout,
      clearTimeout: env.clearTimeout,
      pingEveryMs: env.pingEveryMs,
      connectTimeoutMs: env.connectTimeoutMs,
      handlers: {
        event: (ev) => this.onStreamEvent(ev),
        ephemeral: (f) => this.onEphemeral(f),
        status: (s, d) => {
          this.status = s;
          this.retryInMs = d?.retryInMs ?? 0;
          if (s !== 'live') this.typing.clearAll();
          else if (this.server.role === 'unknown') void this.server.check(); // the first check could not reach the server
          this.changed();
        },
        synced: (_pos, first) => {
          if (first) void this.onLive();
          void this.resumeChannels();
        },
        cursorReset: () => {
          this.timelines.clear();
          this.channels.reset();
          this.freshChannels = true;
          void this.loadConversations();
        },
      },
    });
    this.channels = new ChannelCursors(env.kv, session.device_id, {
      history: (q) => this.call('history', q),
      heads: (q) => this.call<{ heads: ChannelHead[]; next: { after_conv: number } | null }>('channel_heads', q),
      apply: (ev) => this.onEvent(ev),
      setTimeout: (fn, ms) => this.setT(fn, ms),
    });
    this.freshChannels = this.sync.pos < 0;
  }

  // ------------------------------------------------------------------ subscription

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.scheduleCacheSave();
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of this.listeners) l();
    });
  }

  // ------------------------------------------------------------------ lifecycle

  start(): void {
    this.sync.start();
    void this.loadConversations();
    void this.loadProfile();
    void this.server.check();
  }

  stop(): void {
    this.sync.stop();
    this.sender.stop();
    if (this.deliveredTimer !== null) this.clearT(this.deliveredTimer);
    if (this.cacheTimer !== null) this.clearT(this.cacheTimer);
    this.cacheTimer = null;
  }

  reconnectNow(): void {
    this.sync.reconnectNow();
  }

  /** The browser reports the network gone: show it now instead of waiting for a timeout. */
  networkLost(): void {
    this.sync.networkLost();
  }

  get pos(): number {
    return this.sync.pos;
  }

  private async call<T>(op: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.env.http.call<T>(op, body, this.session.token);
  }

  /** One operation with this session, for modules outside the client (push notifications). */
  callOp<T>(op: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.call<T>(op, body);
  }

  /** An optional server feature (receipts, typing, presence): unknown_op disables it quietly. */
  private async optional<T>(feature: string, run: () => Promise<T>): Promise<T | undefined> {
    if (this.unsupported.has(feature)) return undefined;
    try {
      return await run();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'unknown_op') this.unsupported.add(feature);
      return undefined;
    }
  }

  async loadConversations(): Promise<void> {
    try {
      let cursor: { before_ts: number; before_conv: number } | null = null;
      for (let page = 0; page < 20; page++) {
        const r: { conversations: Summary[]; next: typeof cursor } = await this.call('conversations', {
          limit: 100,
          ...(cursor ?? {}),
        });
        if (page === 0 && this.fromCache) this.dropCachedConversations();
        this.convs.upsert(r.conversations);
        for (const s of r.conversations) this.learnSummary(s);
        if (!r.next || r.conversations.length === 0) break;
        cursor = r.next;
      }
      this.loaded = true;
      this.fromCache = false;
      this.notice = '';
      this.changed();
      void this.watchPresence();
    } catch (e) {
      this.notice = e instanceof ApiError ? `Could not load conversations: ${e.message}` : String(e);
      this.changed();
    }
  }

  private learnSummary(s: Summary): void {
    for (const m of s.members ?? []) this.learnUser(m);
    if (s.last_message) this.ensureName(s.conv, s.last_message.sender);
  }

  learnUser(u: UserBrief): void {
    this.names.learn(u);
  }

  private readonly membersLoading = new Set<number>();

  /** Resolves userId's name if it is not known yet (previews, bubbles, system notes): by id with
   *  `users` (which also knows former members), or, from a server without it, conv's members. */
  private ensureName(conv: number, userId: number): void {
    if (this.names.shown.has(userId)) return;
    if (!this.unsupported.has('users')) {
      this.names.want(userId);
      return;
    }
    if (this.membersLoading.has(conv)) return;
    this.membersLoading.add(conv);
    this.loadMembers(conv)
      .catch(() => {})
      .finally(() => this.membersLoading.delete(conv));
  }

  private async onLive(): Promise<void> {
    this.connections++;
    if (this.connections > 1) {
      // Read pointers and receipts are not in the stream: refetch what is shown.
      void this.loadConversations();
    }
    void this.flushOutbox();
    void this.watchPresence();
    if (this.openConv !== null && this.convs.get(this.openConv)?.kind !== 'channel') void this.loadReceipts(this.openConv);
    this.scheduleRead();
  }

  // ------------------------------------------------------------------ stream events

  /** A stream event: besides applying it, the ones that add me to or remove me from a channel
   *  start or stop its cursor (channel events themselves come through channel_event frames). */
  private onStreamEvent(ev: ChatEvent): void {
    const known = this.convs.get(ev.conv)?.kind;
    this.onEvent(ev);
    const me = this.session.user_id;
    const d = (ev.data ?? {}) as { kind?: string; users?: number[]; user?: number };
    const joined = (ev.kind === 'created' && d.kind === 'channel') || (ev.kind === 'members_added' && d.users?.includes(me));
    const left = (ev.kind === 'member_removed' || ev.kind === 'member_left' || ev.kind === 'member_banned') && d.user === me;
    if (joined && (known === 'channel' || d.kind === 'channel')) this.channels.track(ev.conv, ev.seq);
    else if (joined && known === undefined) {
      // A channel joined on another device: its summary says whether it is a channel.
      void this.fetchSummary(ev.conv).then(() => {
        if (this.convs.get(ev.conv)?.kind === 'channel') this.channels.track(ev.conv, ev.seq);
      });
    } else if (left && known === 'channel') this.channels.untrack(ev.conv);
  }

  private async resumeChannels(): Promise<void> {
    if (this.unsupported.has('channel_heads')) return;
    try {
      await this.channels.resume(this.freshChannels);
      this.freshChannels = false;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'unknown_op') this.unsupported.add('channel_heads');
    }
  }

  private onEvent(ev: ChatEvent): void {
    const change = this.convs.apply(ev);
    if (change.kind === 'unknown_conv') this.awaitSummary(ev);
    // 'removed': the conversation stays, read-only (the timeline keeps what was loaded).
    const tl = this.timelines.get(ev.conv);
    if (tl?.loadedLatest) tl.addLive(ev);
    else if (tl && isChange(ev)) tl.applyChange(ev);
    this.threads.onEvent(ev);
    this.admin.onEvent(ev, (seq) => this.timelines.get(ev.conv)?.get(seq));
    if (ev.kind === 'settings_changed') this.applySettings(ev);
    if (ev.kind === 'message' && ev.thread_root !== undefined && this.threads.open?.root === ev.thread_root && this.threads.open.conv === ev.conv)
      this.scheduleThreadRead();
    if (ev.kind === 'message') {
      if (this.convs.get(ev.conv)) this.ensureName(ev.conv, ev.sender);
      if (this.typing.clear(ev.conv, ev.sender)) this.changed();
      if (ev.sender !== this.session.user_id) {
        this.deliveredDue.set(ev.conv, Math.max(this.deliveredDue.get(ev.conv) ?? 0, ev.seq));
        this.scheduleDelivered();
        if (this.openConv === ev.conv) this.scheduleRead();
      } else if (ev.device === this.session.device_id && ev.client_id) {
        this.sender.committed(ev.client_id);
      }
    } else if (ev.kind !== 'created' && this.members.has(ev.conv) && !this.convs.get(ev.conv)?.left) {
      this.loadMembers(ev.conv).catch(() => {});
    }
    this.changed();
  }

  /** Events of conversations whose summary is being fetched, applied to it once it comes: the
   *  summary may have been read before some of them were committed (it comes over HTTP, they over
   *  the WebSocket), and the list would then miss them. */
  private readonly awaitingSummary = new Map<number, ChatEvent[]>();

  private awaitSummary(ev: ChatEvent): void {
    const held = this.awaitingSummary.get(ev.conv);
    if (held) {
      if (held.length < 1000) held.push(ev);
      return;
    }
    this.awaitingSummary.set(ev.conv, [ev]);
    void this.fetchSummary(ev.conv);
  }

  private async fetchSummary(conv: number): Promise<void> {
    try {
      const s = await this.call<Summary>('conversation', { conv });
      this.convs.upsert([s]);
      for (const ev of this.awaitingSummary.get(conv) ?? []) this.convs.apply(ev); // those at or below last_seq change nothing
      this.awaitingSummary.delete(conv);
      this.learnSummary(s);
      this.changed();
      void this.watchPresence();
    } catch {
      /* no longer a member: nothing to show */
      this.awaitingSummary.delete(conv);
    }
  }

  private onEphemeral(f: Record<string, unknown>): void {
    if (f.type === 'channel_event') {
      this.channels.onFrame(f.conv as number, f.seq as number, f.event as ChatEvent);
    } else if (f.type === 'receipt') {
      const conv = f.conv as number;
      const m = this.receipts.get(conv);
      if (m) {
        const uid = f.user_id as number;
        const old = m.get(uid);
        m.set(uid, {
          user_id: uid,
          username: this.names.shown.get(uid) ?? old?.username,
          delivered_seq: Math.max(old?.delivered_seq ?? 0, f.delivered_seq as number),
          read_seq: Math.max(old?.read_seq ?? 0, f.read_seq as number),
        });
      }
      // Only a read pointer that moved clears anything: a delivery receipt repeats it unchanged.
      if (f.user_id === this.session.user_id && !this.convs.markRead(conv, f.read_seq as number)) void this.fetchSummary(conv);
      this.changed();
    } else if (f.type === 'typing') {
      const until = this.typing.apply(f as unknown as TypingFrame, this.now());
      if (until !== null) this.setT(() => this.changed(), until - this.now() + 50);
      this.changed();
    } else if (f.type === 'presence') {
      const p = f as unknown as PresenceState;
      this.presence.set(p.user_id, { user_id: p.user_id, online: p.online, last_seen_ts: p.last_seen_ts });
      this.changed();
    }
  }

  // ------------------------------------------------------------------ sending

  /** Validates, queues (persisted) and sends a message. Throws ApiError for bad input. */
  send(conv: number, text: string, replyTo?: number, thread?: { root: number; alsoInConversation: boolean }): OutboxEntry {
    checkText(text);
    const rand = this.env.randomBytes ?? ((n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n)));
    const entry: OutboxEntry = {
      client_id: newClientId(this.session.device_id, rand),
      conv,
      text,
      created_ts: this.now(),
      ...(replyTo ? { reply_to: replyTo } : {}),
      ...(thread ? { thread_root: thread.root, ...(thread.alsoInConversation ? { also_in_conversation: true } : {}) } : {}),
    };
    this.outbox.add(entry);
    this.typingFor(conv, '', thread?.root);
    this.changed();
    void this.flushOutbox();
    return entry;
  }

  /** Sends every pending outbox entry, in creation order, with its original client_id. */
  flushOutbox(): Promise<void> {
    return this.sender.flush();
  }

  /** Drops a failed message from the outbox. */
  discard(clientId: string): void {
    this.outbox.remove(clientId);
    this.changed();
  }

  /** My messages in conv that are not in the timeline yet (see Sender.pendingFor). */
  /** My unsent messages in conv's timeline, or with root in that thread's. */
  pendingFor(conv: number, root?: number): PendingMessage[] {
    return this.sender
      .pendingFor(conv)
      .filter((p) => (root === undefined ? !(p.entry.thread_root && !p.entry.also_in_conversation) : p.entry.thread_root === root));
  }

  // ------------------------------------------------------------------ threads

  /** Opens root's thread in conv beside the conversation (and the conversation if needed). */
  async openThread(conv: number, root: number): Promise<void> {
    if (this.openConv !== conv) await this.open(conv);
    try {
      await this.threads.show(conv, root);
      this.scheduleThreadRead();
    } catch (e) {
      this.threads.close();
      this.notice = e instanceof ApiError ? `Could not open the thread: ${e.message}` : String(e);
      this.changed();
    }
  }

  /** A settings_changed event: the summary's title, description and settings follow it. */
  private applySettings(ev: ChatEvent): void {
    const s = this.convs.get(ev.conv);
    if (!s) return;
    const d = (ev.data ?? {}) as Record<string, unknown>;
    if (typeof d.title === 'string') s.title = d.title;
    if (typeof d.description === 'string') s.description = d.description;
    const keys = ['post_policy', 'pin_policy', 'wildcard_limit', 'slow_mode_s'] as const;
    const next = { post_policy: 'everyone', pin_policy: 'admins', wildcard_limit: 15, slow_mode_s: 0, ...s.settings } as Record<string, unknown>;
    for (const k of keys) if (d[k] !== undefined) next[k] = d[k];
    s.settings = next as unknown as Summary['settings'];
  }

  /** Sets my notification level for conv (and "muted until"); the list counts it at once. */
  async setNotify(conv: number, level: Notify, mutedUntil?: number): Promise<void> {
    await this.admin.setNotify(conv, level, mutedUntil);
    const s = this.convs.get(conv);
    if (s) {
      s.notify = level;
      if (mutedUntil) s.muted_until = mutedUntil;
      else delete s.muted_until;
    }
    this.changed();
  }

  async loadPins(conv: number): Promise<ChatEvent[]> {
    const list = await this.admin.loadPins(conv);
    this.changed();
    return list;
  }

  /** Follows or unfollows root's thread; the root's summary shows it at once. */
  async followThread(conv: number, root: number, on: boolean): Promise<void> {
    await this.threads.follow(conv, root, on);
    const none = { replies: 0, last_ts: 0, participants: [], unread: 0, following: false };
    this.timelines.get(conv)?.update(root, (m) => ({ ...m, thread: { ...none, ...m.thread, following: on } }));
    if (!on) this.threads.list = this.threads.list.filter((x) => !(x.conv === conv && x.seq === root));
    const t = this.threads.open;
    if (t?.rootEvent && t.conv === conv && t.root === root) t.rootEvent = { ...t.rootEvent, thread: { ...none, ...t.rootEvent.thread, following: on } };
    this.changed();
  }

  private threadReadTimer: unknown = null;

  /** Marks the open thread read up to its newest reply soon, when the page is visible. */
  scheduleThreadRead(): void {
    if (this.threadReadTimer !== null) return;
    this.threadReadTimer = this.setT(() => {
      this.threadReadTimer = null;
      this.readOpenThread();
    }, 300);
  }

  /** Closes the thread panel; what it showed counts as read. */
  closeThread(): void {
    if (this.threadReadTimer !== null) {
      this.clearT(this.threadReadTimer);
      this.threadReadTimer = null;
      this.readOpenThread();
    }
    this.threads.close();
  }

  private readOpenThread(): void {
    const t = this.threads.open;
    if (!t || !t.loaded || (this.env.visible && !this.env.visible())) return;
    const seq = t.replies.newestSeq();
    const root = this.timelines.get(t.conv)?.get(t.root) ?? t.rootEvent;
    if (seq === 0 || (root?.thread && root.thread.unread === 0)) return;
    this.threads.markRead(t.conv, t.root, seq).then(
      () => {
        this.timelines.get(t.conv)?.update(t.root, (m) => (m.thread ? { ...m, thread: { ...m.thread, unread: 0 } } : m));
        const i = this.threads.list.findIndex((x) => x.conv === t.conv && x.seq === t.root);
        const e = this.threads.list[i];
        if (e?.thread) this.threads.list[i] = { ...e, thread: { ...e.thread, unread: 0 } };
        if (t.rootEvent?.thread) t.rootEvent = { ...t.rootEvent, thread: { ...t.rootEvent.thread, unread: 0 } };
        this.changed();
      },
      (e) => console.warn(`read_thread failed (retried with the next reply): ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  // ------------------------------------------------------------------ conversation view

  timeline(conv: number): Timeline | undefined {
    return this.timelines.get(conv);
  }

  async open(conv: number | null): Promise<void> {
    if (this.openConv !== null && this.openConv !== conv) this.typingFor(this.openConv, '');
    this.openConv = conv;
    this.changed();
    if (conv === null) return;
    const s = this.convs.get(conv);
    // The marker goes above what was unread when the conversation was opened; messages that
    // arrive while it is open are seen as they come.
    if (s && s.unread > 0) this.unreadAnchor.set(conv, s.read_seq);
    else this.unreadAnchor.delete(conv);
    if (!this.timelines.has(conv)) {
      const placeholder = new Timeline(conv, this.session.user_id); // "loading" until the first page is here
      this.timelines.set(conv, placeholder);
      try {
        const tl = await firstPage(this.history, conv, s?.last_seq ?? 0, this.unreadAnchor.get(conv), this.session.user_id);
        if (this.timelines.get(conv) === placeholder) this.timelines.set(conv, tl);
      } catch (e) {
        this.timelines.delete(conv);
        this.notice = e instanceof ApiError ? `Could not load messages: ${e.message}` : String(e);
      }
      this.changed();
    }
    if (!s?.left) {
      if (s?.kind === 'channel') {
        /* a channel's members are paged on demand (channel_members) */
      } else if (s?.kind === 'group' || !this.members.has(conv)) this.loadMembers(conv).catch(() => {});
      if (s?.kind !== 'channel') void this.loadReceipts(conv); // a channel sends no receipts
      void this.optional('pins', () => this.admin.loadPins(conv)).then(() => this.changed());
    }
    this.scheduleRead();
  }

  private readonly history: HistoryCall = (q) => this.call('history', q);

  /** The message each conversation view should bring into view and mark once (openAt). */
  readonly focusSeq = new Map<number, number>();

  /** Opens conv at message seq (a search result, a mention): the page around it, unless the
   *  timeline held already has it; the view scrolls to it and marks it. */
  async openAt(conv: number, seq: number): Promise<void> {
    if (this.timelines.get(conv)?.get(seq) === undefined) {
      try {
        this.timelines.set(conv, await pageAround((q) => this.call('history', q), conv, seq, this.session.user_id));
      } catch (e) {
        this.notice = e instanceof ApiError ? `Could not load messages: ${e.message}` : String(e);
      }
    }
    this.focusSeq.set(conv, seq);
    await this.open(conv);
  }

  /** Loads history below the newest event held, when the latest is not loaded yet (opened at
   *  the first unread). Resolves to how many were added. */
  async loadNewer(conv: number): Promise<number> {
    const tl = this.timelines.get(conv);
    if (!tl || tl.loadedLatest) return 0;
    const n = await pageNewer(this.history, tl, () => this.convs.get(conv)?.last_seq ?? 0);
    this.changed();
    return n;
  }

  /** Replaces a timeline opened at its first unread with the latest page. */
  async jumpToLatest(conv: number): Promise<void> {
    if (this.timelines.get(conv)?.loadedLatest ?? true) return;
    this.timelines.set(conv, await firstPage(this.history, conv, 0, undefined, this.session.user_id));
    this.changed();
  }

  /** Loads the page of history above the oldest event held. Resolves to how many were added. */
  async loadOlder(conv: number): Promise<number> {
    const tl = this.timelines.get(conv);
    // Nothing held yet (the first page is loading) or nothing above: nothing to do, and no
    // change to announce (a view that asks again on every change would spin).
    if (!tl || !tl.hasMoreBefore || tl.oldestSeq() === undefined) return 0;
    const n = await pageOlder(this.history, tl);
    this.changed();
    return n;
  }

  /** A channel's members: the first page (channel_members), replacing what was loaded. */
  async loadMembers(conv: number): Promise<Member[]> {
    if (this.convs.get(conv)?.kind === 'channel') {
      const r = await this.channelMembers(conv);
      this.members.set(conv, r.members);
      this.memberCount.set(conv, r.member_count);
      this.membersNext.set(conv, r.next?.after_user ?? null);
      this.changed();
      return r.members;
    }
    const r = await this.call<{ members: Member[] }>('members', { conv });
    this.members.set(conv, r.members);
    for (const m of r.members) this.learnUser(m);
    this.changed();
    return r.members;
  }

  /** The next page of a channel's members, after the ones loaded. */
  async loadMoreMembers(conv: number): Promise<void> {
    const after = this.membersNext.get(conv);
    if (after === undefined || after === null) return;
    const r = await this.channelMembers(conv, after);
    this.members.set(conv, [...(this.members.get(conv) ?? []), ...r.members]);
    this.memberCount.set(conv, r.member_count);
    this.membersNext.set(conv, r.next?.after_user ?? null);
    this.changed();
  }

  hasMoreMembers(conv: number): boolean {
    return (this.membersNext.get(conv) ?? null) !== null;
  }

  async loadReceipts(conv: number): Promise<void> {
    const r = await this.optional('receipts', () =>
      this.call<{ members: ReceiptState[] }>('receipts', { conv }),
    );
    if (!r) return;
    const m = new Map<number, ReceiptState>();
    for (const x of r.members) {
      if (x.username) this.learnUser({ user_id: x.user_id, username: x.username, display_name: x.display_name });
      m.set(x.user_id, { ...x, username: this.names.shown.get(x.user_id) ?? x.username });
    }
    this.receipts.set(conv, m);
    this.changed();
  }

  receiptsFor(conv: number): ReceiptState[] {
    return [...(this.receipts.get(conv)?.values() ?? [])];
  }

  private readTimer: unknown = null;

  /** Marks the open conversation read up to its newest event, when the page is visible. */
  scheduleRead(): void {
    if (this.readTimer !== null) return;
    this.readTimer = this.setT(() => {
      this.readTimer = null;
      void this.markOpenRead();
    }, 300);
  }

  private async markOpenRead(): Promise<void> {
    const conv = this.openConv;
    if (conv === null || (this.env.visible && !this.env.visible())) return;
    const s = this.convs.get(conv);
    const tl = this.timelines.get(conv);
    const seq = Math.max(s?.last_seq ?? 0, tl?.newestSeq() ?? 0);
    if (!s || s.left || seq <= s.read_seq) return;
    try {
      const r = await this.call<{ read_seq: number }>('read', { conv, seq });
      this.convs.markRead(conv, r.read_seq);
      this.changed();
    } catch {
      /* retried on the next event or reconnect */
    }
  }

  private scheduleDelivered(): void {
    if (this.deliveredTimer !== null || this.unsupported.has('delivered')) return;
    this.deliveredTimer = this.setT(() => {
      this.deliveredTimer = null;
      const due = [...this.deliveredDue];
      this.deliveredDue.clear();
      for (const [conv, seq] of due) void this.optional('delivered', () => this.call('delivered', { conv, seq }));
    }, 1000);
  }

  /** Tells the other members that I am typing (or stopped), throttled. */
  /** The composer of conv (or of root's thread in conv) now holds text: tells the server when I
   *  start, keep on or stop typing there. */
  typingFor(conv: number, text: string, thread?: number): void {
    const key = thread === undefined ? `${conv}` : `${conv}:${thread}`;
    let ts = this.typingSenders.get(key);
    if (!ts) this.typingSenders.set(key, (ts = new TypingSender()));
    const frame = ts.input(text, this.now());
    if (!frame || this.sync.status !== 'live' || this.unsupported.has('typing')) return;
    const body = { conv, active: frame.active, ...(frame.active && thread !== undefined ? { thread } : {}) };
    void this.optional('typing', () => this.sync.request('typing', body));
  }

  /** Who is typing in conv's composer (or, with thread, in that thread's). */
  typingNames(conv: number, thread?: number): string[] {
    return this.typing.names(conv, this.now(), thread);
  }

  private async watchPresence(): Promise<void> {
    if (this.sync.status !== 'live' || !this.loaded) return;
    const ids = new Set<number>();
    for (const s of this.convs.ordered()) {
      const o = otherMember(s, this.session.user_id);
      if (o !== undefined) ids.add(o);
      if (ids.size >= 256) break;
    }
    const r = await this.optional('presence', () =>
      this.sync.request<{ users: PresenceState[] }>('presence', { users: [...ids] }),
    );
    if (!r) return;
    for (const p of r.users) this.presence.set(p.user_id, p);
    this.changed();
  }

  // ------------------------------------------------------------------ people, groups, devices

  async findUsers(prefix: string): Promise<UserBrief[]> {
    const r = await this.call<{ users: UserBrief[] }>('find_users', { prefix, limit: 10 });
    for (const u of r.users) this.learnUser(u);
    return r.users;
  }

  /** My display name as the server knows it ("" when unset); undefined before it was read. */
  myDisplayName: string | undefined;

  async loadProfile(): Promise<void> {
    let r: UserBrief;
    try {
      r = await this.call<UserBrief>('me');
    } catch {
      return; // shown as the username until the next start
    }
    this.myDisplayName = r.display_name ?? '';
    this.learnUser({ user_id: this.session.user_id, username: this.session.username, display_name: r.display_name });
    this.changed();
  }

  async setDisplayName(name: string): Promise<void> {
    const r = await this.call<UserBrief>('set_profile', { display_name: name });
    this.myDisplayName = r.display_name ?? '';
    this.learnUser(r);
    this.changed();
  }

  // ------------------------------------------------------------------ drafts and the saved list

  private readonly local: LocalState;

  /** The unsent text of conv's composer (or of root's thread in conv), kept in this browser. */
  draft(conv: number, root?: number): string {
    return this.local.draft(root === undefined ? conv : `${conv}:${root}`);
  }

  setDraft(conv: number, text: string, root?: number): void {
    this.local.setDraft(root === undefined ? conv : `${conv}:${root}`, text);
  }

  private cacheTimer: unknown = null;

  /** The conversation list as last seen, so a reload without a network still shows it. */
  private loadCache(): void {
    const c = this.local.savedList();
    if (!c) return;
    this.convs.upsert(c.convs.filter((s) => !s.left));
    for (const [id, name] of c.users) if (!this.names.shown.has(id)) this.names.shown.set(id, name);
    this.loaded = true;
    this.fromCache = true;
  }

  private dropCachedConversations(): void {
    for (const s of this.convs.ordered()) this.convs.remove(s.conv);
  }

  private scheduleCacheSave(): void {
    if (this.cacheTimer !== null || !this.loaded || this.fromCache) return;
    this.cacheTimer = this.setT(() => {
      this.cacheTimer = null;
      if (this.stopped) return;
      const convs = this.convs.ordered().filter((s) => !s.left).slice(0, 200);
      this.local.saveList({ convs, users: [...this.names.shown] });
    }, 1000);
  }

  private stopped = false;

  async startDirect(userId: number): Promise<number> {
    const r = await this.call<{ conv: number }>('create_direct', { user_id: userId });
    await this.fetchSummary(r.conv);
    return r.conv;
  }

  async createGroup(title: string, members: number[]): Promise<number> {
    const r = await this.call<{ conv: number }>('create_group', { title, members });
    await this.fetchSummary(r.conv);
    return r.conv;
  }

  /** One page of the messages that mention me, newest first (before: the previous page's next). */
  async mentions(before?: string): Promise<{ mentions: ChatEvent[]; next: string | null }> {
    return this.call('mentions', { limit: 20, ...(before ? { before } : {}) });
  }

  /** One page of the messages matching query q (protocol 6.5), newest first, with highlights. */
  async search(
    q: string,
    before?: string,
    sort: 'newest' | 'relevance' = 'newest',
  ): Promise<{ results: (ChatEvent & { highlights: [number, number][] })[]; next: string | null }> {
    return this.call('search', { q, limit: 20, sort, ...(before ? { before } : {}) });
  }

  // ------------------------------------------------------------------ channels (protocol 6.4)

  async createChannel(title: string, topic: string, visibility: 'public' | 'private'): Promise<number> {
    const r = await this.call<{ conv: number }>('create_channel', { title, topic, visibility });
    await this.fetchSummary(r.conv);
    return r.conv;
  }

  /** One page of the public channel directory, by title. */
  async browseChannels(
    query: string,
    after?: { after_title: string; after_conv: number },
  ): Promise<{ channels: ChannelInfo[]; next: { after_title: string; after_conv: number } | null }> {
    return this.call('channels', { limit: 50, ...(query ? { query } : {}), ...(after ?? {}) });
  }

  async joinChannel(conv: number): Promise<void> {
    await this.call('join_channel', { conv });
    await this.fetchSummary(conv);
  }

  /** One page of a channel's members (by user id) and its member count. */
  async channelMembers(conv: number, afterUser?: number): Promise<{ members: Member[]; member_count: number; next: { after_user: number } | null }> {
    const r = await this.call<{ members: Member[]; member_count: number; next: { after_user: number } | null }>('channel_members', {
      conv,
      limit: 50,
      ...(afterUser !== undefined ? { after_user: afterUser } : {}),
    });
    for (const m of r.members) this.learnUser(m);
    return r;
  }

  async addMembers(conv: number, users: number[]): Promise<void> {
    await this.call('add_members', { conv, users });
    await this.loadMembers(conv);
  }

  async removeMember(conv: number, userId: number): Promise<void> {
    await this.call('remove_member', { conv, user_id: userId });
    await this.loadMembers(conv);
  }

  async setRole(conv: number, userId: number, role: string): Promise<void> {
    await this.call('set_role', { conv, user_id: userId, role });
    await this.loadMembers(conv);
    await this.fetchSummary(conv);
  }

  /** Marks a conversation I am no longer in as read-only (e.g. after not a member). */
  markLeft(conv: number): void {
    const s = this.convs.get(conv);
    if (s && !s.left) {
      s.left = true;
      s.unread = 0;
      this.changed();
    }
  }

  async leave(conv: number): Promise<void> {
    await this.call('leave', { conv });
    this.convs.remove(conv);
    this.timelines.delete(conv);
    if (this.openConv === conv) this.openConv = null;
    this.changed();
  }

  async devices(): Promise<{ devices: Device[]; current: number }> {
    return this.call('devices');
  }

  async revokeDevice(deviceId: number): Promise<void> {
    await this.call('revoke_device', { device_id: deviceId });
  }

  /** Revokes this device on the server and forgets its local state. Resolves to false when the
   *  server could not be reached: the token is then kept aside (signout.ts) and the revocation
   *  is sent when the connection returns; until then the device stays signed in. */
  async logout(): Promise<boolean> {
    let revoked = true;
    try {
      await this.call('logout');
    } catch (e) {
      if (e instanceof ApiError && e.retryable) {
        addPendingLogout(this.env.kv, this.session.token);
        revoked = false;
      } // otherwise (unauthenticated): already signed out
    }
    this.stop();
    this.stopped = true;
    // The device is gone: its cursor, unsent messages, drafts and saved list are of no further
    // use (and their text should not stay behind in the browser).
    this.env.kv.remove(`confab.d${this.session.device_id}.pos`);
    this.channels.reset();
    this.local.clear();
    this.outbox.clear();
    return revoked;
  }

  nameOf(userId: number): string {
    const name = this.names.shown.get(userId);
    if (name !== undefined) return name;
    if (!this.unsupported.has('users')) this.names.want(userId);
    return `user ${userId}`;
  }

  /** userId's username, asked for when not known yet (undefined until then). */
  usernameOf(userId: number): string | undefined {
    const name = this.names.usernames.get(userId);
    if (name === undefined && !this.unsupported.has('users')) this.names.want(userId);
    return name;
  }
}
