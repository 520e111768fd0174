// Threads (docs/protocol.md, threads): the open thread's replies, paged with `thread`; the
// threads I follow, with their unread counts (`threads`); following and reading a thread. Replies
// arrive through the conversation's stream like any message (client.ts hands each event here), so
// an open thread stays current without polling.
import { Call } from './actions';
import { applied, changeTarget } from './changes';
import { Timeline } from './timeline';
import { ChatEvent } from './types';

export const THREAD_PAGE = 50;

export interface OpenThread {
  conv: number;
  root: number;
  /** The root as `thread` returned it (with its summary for me), until the timeline holds it. */
  rootEvent?: ChatEvent;
  /** The replies held (oldest first); older pages on demand. */
  replies: Timeline;
  loaded: boolean;
}

export class Threads {
  open: OpenThread | null = null;
  /** Followed threads' roots (with their summaries for me), latest reply first, as last listed. */
  list: ChatEvent[] = [];
  listLoaded = false;

  constructor(
    private readonly call: Call,
    private readonly me: number,
    private readonly changed: () => void,
  ) {}

  /** Opens the thread of root in conv and loads its newest page of replies. */
  async show(conv: number, root: number): Promise<void> {
    const t: OpenThread = { conv, root, replies: new Timeline(conv, this.me), loaded: false };
    this.open = t;
    this.changed();
    const r = await this.call<{ root: ChatEvent; replies: ChatEvent[]; has_more: boolean }>('thread', { conv, root, limit: THREAD_PAGE });
    if (this.open !== t) return;
    t.rootEvent = r.root;
    t.replies.addOlderPage(r.replies, r.has_more);
    t.loaded = true;
    this.changed();
  }

  close(): void {
    this.open = null;
    this.changed();
  }

  /** Loads the page of replies above the oldest held. */
  async older(): Promise<number> {
    const t = this.open;
    const oldest = t?.replies.oldestSeq();
    if (!t || !t.replies.hasMoreBefore || oldest === undefined) return 0;
    const r = await this.call<{ replies: ChatEvent[]; has_more: boolean }>('thread', { conv: t.conv, root: t.root, before: oldest, limit: THREAD_PAGE });
    const n = t.replies.addOlderPage(r.replies, r.has_more);
    this.changed();
    return n;
  }

  /** A stream event: a reply to the open thread joins it; a change to a held reply applies. */
  onEvent(ev: ChatEvent): void {
    const t = this.open;
    if (!t || ev.conv !== t.conv) return;
    if (ev.kind === 'message' && ev.thread_root === t.root) {
      if (t.loaded) t.replies.addLive(ev);
      if (t.rootEvent) t.rootEvent = applied(t.rootEvent, ev, this.me);
    } else {
      t.replies.applyChange(ev);
      if (t.rootEvent && changeTarget(ev) === t.root) t.rootEvent = applied(t.rootEvent, ev, this.me);
    }
  }

  async follow(conv: number, root: number, on: boolean): Promise<void> {
    await this.call(on ? 'follow_thread' : 'unfollow_thread', { conv, root });
  }

  /** Marks the thread read up to seq (the newest reply shown). */
  async markRead(conv: number, root: number, seq: number): Promise<void> {
    await this.call('read_thread', { conv, root, seq });
  }

  /** Lists the threads I follow (the first page). */
  async load(): Promise<void> {
    const r = await this.call<{ threads: ChatEvent[] }>('threads', { limit: 50 });
    this.list = r.threads;
    this.listLoaded = true;
    this.changed();
  }

  unreadTotal(): number {
    let n = 0;
    for (const e of this.list) n += e.thread?.unread ?? 0;
    return n;
  }
}
