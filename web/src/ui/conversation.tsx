// One open conversation: header with presence, the message list (history on scroll-up without
// jumps, day separators, unread marker, per-message state), typing line and composer.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient, PendingMessage } from '../lib/client';
import { displayTitle, initials, otherMember } from '../lib/conversations';
import { deliveryState, Row, rows, typingText } from '../lib/timeline';
import { ApiError, ChatEvent } from '../lib/types';
import { dialog } from './dialogs';
import { errorText } from './errors';
import { dayLabel, lastSeen, timeOfDay } from './format';
import { version } from './state';

export function ConversationView({ c, conv }: { c: ChatClient; conv: number }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here

  const s = c.convs.get(conv)!;
  const me = c.session.user_id;
  const title = displayTitle(s, me);
  const other = otherMember(s, me);
  const p = other !== undefined ? c.presence.get(other) : undefined;
  const [replyTo, setReplyTo] = useState<ChatEvent | null>(null);
  let subtitle = '';
  if (s.kind === 'group') {
    const n = c.members.get(conv)?.length;
    subtitle = n ? `${n} members` : 'Group';
  } else if (p) subtitle = p.online ? 'online' : lastSeen(p.last_seen_ts);

  return (
    <section
      class="conv"
      aria-label={`Conversation with ${title}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) void c.open(null);
      }}
    >
      <header class="conv-head">
        <button class="back" aria-label="Back to conversations" onClick={() => void c.open(null)}>
          ←
        </button>
        <span class="avatar" aria-hidden="true">
          {initials(title)}
          {p && <span class={`dot ${p.online ? 'online' : ''}`} />}
        </span>
        <span class="conv-head-text">
          <h2>{title}</h2>
          <span class="muted presence" data-testid="presence">
            {subtitle}
          </span>
        </span>
        {s.kind === 'group' && (
          <button onClick={() => (dialog.value = { kind: 'members', conv })}>Members</button>
        )}
      </header>
      <MessageList c={c} conv={conv} onReply={setReplyTo} />
      <div class="typing" aria-live="polite" data-testid="typing">
        {typingText(c.typingNames(conv))}
      </div>
      <Composer c={c} conv={conv} replyTo={replyTo} clearReply={() => setReplyTo(null)} />
    </section>
  );
}

function MessageList({ c, conv, onReply }: { c: ChatClient; conv: number; onReply: (e: ChatEvent) => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here

  const tl = c.timeline(conv);
  const me = c.session.user_id;
  const s = c.convs.get(conv)!;
  const ref = useRef<HTMLDivElement>(null);
  // The scroller's geometry as of the last render or scroll: the baseline for keeping the view
  // still when older messages are inserted above.
  const snap = useRef({ height: 0, top: 0, atBottom: true, first: '' });
  const loading = useRef(false);
  const [loadError, setLoadError] = useState('');

  const list: Row[] = tl ? rows(tl.events(), me, c.unreadAnchor.get(conv) ?? null) : [];
  const firstKey = list.find((r) => r.kind === 'event')?.key ?? '';
  const pending = c.pendingFor(conv);
  const receipts = c.receiptsFor(conv);

  async function loadOlder() {
    if (loading.current || !tl?.hasMoreBefore) return;
    loading.current = true;
    try {
      await c.loadOlder(conv);
      setLoadError('');
    } catch (e) {
      setLoadError(errorText(e));
    } finally {
      loading.current = false;
    }
  }

  function record() {
    const el = ref.current;
    if (!el) return;
    snap.current = {
      height: el.scrollHeight,
      top: el.scrollTop,
      atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 40,
      first: firstKey,
    };
  }

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const prev = snap.current;
    if (prev.first && prev.first !== firstKey && prev.height) {
      // Older messages were inserted above: keep what the person was looking at in place.
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if (prev.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    record();
    // A short first page does not fill the view: keep loading until it scrolls or history ends.
    if (tl?.loadedLatest && tl.hasMoreBefore && el.scrollHeight <= el.clientHeight) void loadOlder();
  });

  return (
    <div
      class="messages"
      ref={ref}
      role="log"
      aria-label="Messages"
      tabIndex={0}
      onScroll={() => {
        record();
        if (ref.current && ref.current.scrollTop < 150) void loadOlder();
      }}
    >
      {tl && !tl.hasMoreBefore && <p class="history-start muted">This is the beginning of the conversation.</p>}
      {tl?.hasMoreBefore && <p class="history-start muted">{loadError || 'Loading earlier messages…'}</p>}
      {!tl && <p class="muted pad">Loading…</p>}
      {list.map((r) => {
        if (r.kind === 'day')
          return (
            <div class="day" key={r.key} role="separator">
              <span>{dayLabel(r.ts)}</span>
            </div>
          );
        if (r.kind === 'unread')
          return (
            <div class="unread-marker" key={r.key} role="separator">
              <span>New messages</span>
            </div>
          );
        const ev = r.ev;
        if (ev.kind !== 'message') return <SystemNote key={r.key} c={c} ev={ev} />;
        const mine = ev.sender === me;
        const d = mine ? deliveryState(ev.seq, me, receipts) : null;
        return (
          <Message
            key={r.key}
            c={c}
            ev={ev}
            group={s.kind === 'group'}
            mine={mine}
            state={d?.state}
            readBy={d?.readBy}
            quoted={ev.reply_to ? tl?.get(ev.reply_to) : undefined}
            onReply={onReply}
          />
        );
      })}
      {pending.map((pm) => (
        <PendingBubble key={`p-${pm.entry.client_id}`} c={c} pm={pm} />
      ))}
    </div>
  );
}

function stateLabel(state: string | undefined, group: boolean, readBy: string[] | undefined): string {
  if (state === 'read') return group ? `Read by ${readBy!.join(', ')}` : 'Read';
  if (group && readBy && readBy.length) return `Read by ${readBy.join(', ')}`;
  if (state === 'delivered') return 'Delivered';
  return 'Sent';
}

function Message(props: {
  c: ChatClient;
  ev: ChatEvent;
  group: boolean;
  mine: boolean;
  state?: string;
  readBy?: string[];
  quoted?: ChatEvent;
  onReply: (e: ChatEvent) => void;
}) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const { c, ev, group, mine } = props;
  return (
    <div class={`msg ${mine ? 'mine' : ''}`} data-seq={ev.seq} data-state={mine ? props.state : undefined}>
      <div class="bubble">
        {group && !mine && <div class="who">{c.nameOf(ev.sender)}</div>}
        {ev.reply_to && (
          <div class="quote">
            {props.quoted ? (
              <>
                <strong>{c.nameOf(props.quoted.sender)}</strong> {props.quoted.text}
              </>
            ) : (
              'Reply to an earlier message'
            )}
          </div>
        )}
        <div class="text">{ev.text}</div>
        <div class="meta">
          <time>{timeOfDay(ev.ts)}</time>
          {mine && <span class="state">{stateLabel(props.state, group, props.readBy)}</span>}
        </div>
      </div>
      <button class="reply-btn" aria-label={`Reply to ${c.nameOf(ev.sender)}: ${ev.text?.slice(0, 40)}`} onClick={() => props.onReply(ev)}>
        Reply
      </button>
    </div>
  );
}

function PendingBubble({ c, pm }: { c: ChatClient; pm: PendingMessage }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const e = pm.entry;
  const state = e.failed ? 'failed' : pm.seq ? 'sent' : 'sending';
  return (
    <div class="msg mine pending" data-state={state} data-client-id={e.client_id}>
      <div class="bubble">
        <div class="text">{e.text}</div>
        <div class="meta">
          <time>{timeOfDay(e.created_ts)}</time>
          <span class="state">{state === 'failed' ? 'Not sent' : state === 'sent' ? 'Sent' : 'Sending…'}</span>
        </div>
        {e.failed && (
          <div class="error" role="alert">
            Not sent: {errorText(new ApiError(e.failed.code, e.failed.message, false))}{' '}
            <button class="link" onClick={() => c.discard(e.client_id)}>
              Discard
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

function SystemNote({ c, ev }: { c: ChatClient; ev: ChatEvent }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const d = (ev.data ?? {}) as Record<string, unknown>;
  const by = c.nameOf(ev.sender);
  let text = '';
  switch (ev.kind) {
    case 'created':
      text = d.kind === 'group' ? `${by} created the group “${d.title}”` : `${by} started the conversation`;
      break;
    case 'members_added':
      text = `${by} added ${((d.users as number[]) ?? []).map((u) => c.nameOf(u)).join(', ')}`;
      break;
    case 'member_removed':
      text = `${by} removed ${c.nameOf(d.user as number)}`;
      break;
    case 'member_left':
      text = `${by} left`;
      break;
    case 'role_changed':
      text = `${by} made ${c.nameOf(d.user as number)} ${d.role}`;
      break;
    default:
      text = ev.kind;
  }
  return (
    <div class="system" data-seq={ev.seq}>
      {text}
    </div>
  );
}

function Composer({ c, conv, replyTo, clearReply }: { c: ChatClient; conv: number; replyTo: ChatEvent | null; clearReply: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  function submit(e?: Event) {
    e?.preventDefault();
    try {
      c.send(conv, text, replyTo?.seq);
      setText('');
      setError('');
      clearReply();
    } catch (err) {
      setError(errorText(err));
    }
    input.current?.focus();
  }

  useLayoutEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  return (
    <form class="composer" onSubmit={submit}>
      {replyTo && (
        <div class="replying">
          <span>
            Replying to <strong>{c.nameOf(replyTo.sender)}</strong>: {replyTo.text?.slice(0, 80)}
          </span>
          <button type="button" class="link" onClick={clearReply} aria-label="Cancel reply">
            Cancel
          </button>
        </div>
      )}
      <p class="error" role="alert" data-testid="composer-error">
        {error}
      </p>
      <div class="composer-row">
        <textarea
          ref={input}
          aria-label="Message"
          placeholder="Write a message"
          rows={1}
          value={text}
          onInput={(e) => {
            const v = (e.target as HTMLTextAreaElement).value;
            setText(v);
            if (error) setError('');
            c.typingFor(conv, v);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
            if (e.key === 'Escape' && replyTo) {
              e.preventDefault(); // cancels the reply, not the conversation
              clearReply();
            }
          }}
        />
        <button class="primary" type="submit">
          Send
        </button>
      </div>
    </form>
  );
}
