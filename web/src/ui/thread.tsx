// A thread beside its conversation (on a phone: its own screen): the root, the replies (older
// pages on scroll-up), follow / unfollow, and a composer that replies in the thread (optionally
// also to the conversation). Threads are one level: replies have no thread of their own.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { typingText } from '../lib/timeline';
import { ChatEvent } from '../lib/types';
import { Composer } from './composer';
import { errorText } from './errors';
import { arrowTarget, Message, PendingBubble, useFocusedMessage } from './message';
import { version } from './state';

export function ThreadPanel({ c, conv }: { c: ChatClient; conv: number }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const t = c.threads.open!;
  const s = c.convs.get(conv);
  const me = c.session.user_id;
  const root = c.timeline(conv)?.get(t.root) ?? t.rootEvent;
  const [editing, setEditing] = useState<ChatEvent | null>(null);
  const [error, setError] = useState('');
  const list = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const replies = t.replies.events();
  const following = root?.thread?.following ?? false;
  const readOnly = !!s?.left;
  const { focused, listeners } = useFocusedMessage();

  useLayoutEffect(() => {
    const el = list.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  });

  async function toggleFollow() {
    try {
      await c.followThread(conv, t.root, !following);
      setError('');
    } catch (e) {
      setError(errorText(e));
    }
  }

  const canDelete = (ev: ChatEvent) => !readOnly && !ev.deleted && (ev.sender === me || s?.role === 'owner' || s?.role === 'admin');
  return (
    <aside
      class="thread-panel"
      aria-label="Thread"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) {
          e.preventDefault();
          c.closeThread();
        }
      }}
    >
      <header class="thread-head">
        <h2>Thread</h2>
        <button onClick={() => void toggleFollow()} aria-pressed={following} disabled={readOnly}>
          {following ? 'Following' : 'Follow'}
        </button>
        <button onClick={() => c.closeThread()} aria-label="Close thread">
          Close
        </button>
      </header>
      <p class="error" role="alert">
        {error}
      </p>
      <div
        class="messages thread-messages"
        ref={list}
        role="log"
        aria-label="Thread replies (arrow keys move between messages)"
        tabIndex={0}
        {...listeners}
        onKeyDown={(e) => {
          const next = list.current && !e.altKey && !e.ctrlKey && !e.metaKey ? arrowTarget(list.current, e.key) : undefined;
          if (!next) return;
          e.preventDefault();
          next.focus();
        }}
        onScroll={() => {
          const el = list.current;
          if (!el) return;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (el.scrollTop < 100) c.threads.older().catch((e) => setError(errorText(e)));
        }}
      >
        {root ? (
          <Message c={c} ev={root} group={s?.kind !== undefined && s.kind !== 'direct'} cont={false} mine={root.sender === me} canDelete={false} active={focused === root.seq} />
        ) : (
          <p class="muted">The thread's first message is not loaded.</p>
        )}
        <div class="day" role="separator">
          <span>
            {root?.thread?.replies ?? replies.length} {(root?.thread?.replies ?? replies.length) === 1 ? 'reply' : 'replies'}
          </span>
        </div>
        {!t.loaded && <p class="muted pad">Loading…</p>}
        {t.replies.hasMoreBefore && t.loaded && <p class="history-start muted">Loading earlier replies…</p>}
        {replies
          .filter((ev) => ev.kind === 'message')
          .map((ev) => (
            <Message
              key={ev.seq}
              c={c}
              ev={ev}
              group={s?.kind !== undefined && s.kind !== 'direct'}
              cont={false}
              mine={ev.sender === me}
              onReply={readOnly || ev.deleted ? undefined : () => document.querySelector<HTMLElement>('.thread-panel textarea')?.focus()}
              onEdit={ev.sender === me && !readOnly && !ev.deleted ? setEditing : undefined}
              canDelete={canDelete(ev)}
              active={focused === ev.seq}
            />
          ))}
        {c.pendingFor(conv, t.root).map((pm) => (
          <PendingBubble key={`p-${pm.entry.client_id}`} c={c} pm={pm} />
        ))}
      </div>
      <div class="typing" aria-live="polite" data-testid="thread-typing">
        {typingText(c.typingNames(conv, t.root))}
      </div>
      {!readOnly && (
        <Composer
          c={c}
          conv={conv}
          thread={t.root}
          replyTo={null}
          clearReply={() => {}}
          editing={editing}
          setEditing={setEditing}
          note=""
          setNote={() => {}}
        />
      )}
    </aside>
  );
}

/** The threads I follow, most recent activity first, with unread replies; a click opens one. */
export function ThreadsList({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [error, setError] = useState('');
  useLayoutEffect(() => {
    c.threads.load().catch((e) => setError(errorText(e)));
  }, []);
  const list = c.threads.list;
  return (
    <div>
      <p class="error" role="alert">
        {error}
      </p>
      {!c.threads.listLoaded && !error && <p class="muted">Loading…</p>}
      {c.threads.listLoaded && list.length === 0 && <p class="muted">You follow no threads yet. Reply in one, or follow it.</p>}
      <ul class="results threads-list" role="list">
        {list.map((root) => {
          const s = c.convs.get(root.conv);
          const unread = root.thread?.unread ?? 0;
          return (
            <li key={`${root.conv}-${root.seq}`}>
              <button
                onClick={() => {
                  close();
                  void c.openThread(root.conv, root.seq);
                }}
              >
                <strong>{s ? (s.kind !== 'direct' ? s.title : c.nameOf(root.sender)) : `Conversation ${root.conv}`}</strong>
                {': '}
                <span dir="auto">{root.deleted ? 'deleted message' : (root.text ?? '').slice(0, 80)}</span>{' '}
                <span class="muted">
                  · {root.thread?.replies ?? 0} replies{unread > 0 ? ` · ${unread} new` : ''}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
