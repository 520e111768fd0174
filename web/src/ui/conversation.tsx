// One open conversation: header with presence, the message list (opened at the first unread,
// history on scroll-up without jumps, newer pages on scroll-down, day separators, unread marker,
// grouped messages, per-message state, one tab stop with arrow keys inside), typing line and the
// composer (a draft per conversation, growing with its text).
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { displayTitle, initials, otherMember } from '../lib/conversations';
import { deliveryState, Row, rows, typingText } from '../lib/timeline';
import { ChatEvent } from '../lib/types';
import { ATTACHMENTS_UNSUPPORTED, Composer } from './composer';
import { dialog } from './dialogs';
import { errorText } from './errors';
import { dayLabel, lastSeen } from './format';
import { mayPin, mayPost, NotifyMenu } from './admin_ui';
import { arrowTarget, Message, PendingBubble, SystemNote, useFocusedMessage } from './message';
import { version } from './state';

export function ConversationView({ c, conv }: { c: ChatClient; conv: number }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here

  const s = c.convs.get(conv)!;
  const me = c.session.user_id;
  const title = displayTitle(s, me);
  const other = otherMember(s, me);
  const p = other !== undefined ? c.presence.get(other) : undefined;
  const live = c.status === 'live';
  const [replyTo, setReplyTo] = useState<ChatEvent | null>(null);
  const [editing, setEditing] = useState<ChatEvent | null>(null);
  const [fileNote, setFileNote] = useState('');
  let subtitle = '';
  if (s.kind === 'channel') {
    const n = c.memberCount.get(conv) ?? s.channel?.member_count;
    const about = [s.channel?.visibility === 'private' ? 'Private channel' : 'Public channel', n !== undefined ? `${n} members` : '', s.channel?.topic ?? '']
      .filter(Boolean)
      .join(' · ');
    subtitle = s.left ? 'You are no longer a member' : about;
  } else if (s.kind === 'group') {
    const n = c.members.get(conv)?.length;
    subtitle = s.left ? 'You are no longer a member' : n ? `${n} members` : 'Group';
  } else if (p) subtitle = !live ? 'not known while disconnected' : p.online ? 'online' : lastSeen(p.last_seen_ts);

  function refuseFiles(e: DragEvent) {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault(); // the browser would open the file in place of the app
    if (e.type === 'drop') setFileNote(ATTACHMENTS_UNSUPPORTED);
  }

  return (
    <section
      class="conv"
      aria-label={`Conversation with ${title}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) void c.open(null);
      }}
      onDragOver={refuseFiles}
      onDrop={refuseFiles}
    >
      <header class="conv-head">
        <button class="back" aria-label="Back to conversations" onClick={() => void c.open(null)}>
          ←
        </button>
        <span class="avatar" aria-hidden="true">
          {initials(title)}
          {p && <span class={`dot ${p.online && live ? 'online' : ''} ${live ? '' : 'unknown'}`} />}
        </span>
        <span class="conv-head-text">
          <h2>{title}</h2>
          <span class="muted presence" data-testid="presence">
            {subtitle}
          </span>
        </span>
        <NotifyMenu c={c} conv={conv} />
        <button onClick={() => (dialog.value = { kind: 'pins', conv })}>Pins</button>
        {s.kind !== 'direct' && <button onClick={() => (dialog.value = { kind: 'settings', conv })}>Settings</button>}
        {s.kind !== 'direct' && !s.left && (
          <button onClick={() => (dialog.value = { kind: 'members', conv })}>Members</button>
        )}
      </header>
      <MessageList c={c} conv={conv} onReply={setReplyTo} onEdit={setEditing} onThread={(ev) => void c.openThread(conv, ev.seq)} />
      <div class="typing" aria-live="polite" data-testid="typing">
        {typingText(c.typingNames(conv))}
      </div>
      {s.left ? (
        <p class="left-notice" role="status" data-testid="left-notice">
          You are no longer a member of this conversation. You can still read the messages up to then, but not send.
        </p>
      ) : s.member_muted_until !== undefined && s.member_muted_until > Date.now() ? (
        <p class="left-notice" role="status" data-testid="muted-notice">
          An admin muted you here until {new Date(s.member_muted_until).toLocaleString()}. You can read, but not post.
        </p>
      ) : !mayPost(c, conv) ? (
        <p class="left-notice" role="status" data-testid="announce-notice">
          Only owners and admins post in this group.
        </p>
      ) : (
        <Composer
          c={c}
          conv={conv}
          replyTo={replyTo}
          clearReply={() => setReplyTo(null)}
          editing={editing}
          setEditing={setEditing}
          note={fileNote}
          setNote={setFileNote}
        />
      )}
    </section>
  );
}

function MessageList(props: {
  c: ChatClient;
  conv: number;
  onReply: (e: ChatEvent) => void;
  onEdit: (e: ChatEvent) => void;
  onThread: (e: ChatEvent) => void;
}) {
  const { c, conv, onReply } = props;
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here

  const tl = c.timeline(conv);
  const me = c.session.user_id;
  const s = c.convs.get(conv)!;
  const ref = useRef<HTMLDivElement>(null);
  // The scroller's geometry as of the last render or scroll: the baseline for keeping the view
  // still when older messages are inserted above.
  const snap = useRef({ height: 0, top: 0, atBottom: true, first: '' });
  const positioned = useRef(false);
  const seen = useRef(0); // the highest seq of another's message that has been in view
  const toBottom = useRef(false);
  const loading = useRef(false);
  const [loadError, setLoadError] = useState('');
  const [below, setBelow] = useState<{ away: boolean; n: number }>({ away: false, n: 0 });
  const { focused, listeners } = useFocusedMessage();

  const list: Row[] = tl ? rows(tl.events(), me, c.unreadAnchor.get(conv) ?? null) : [];
  const firstKey = list.find((r) => r.kind === 'event')?.key ?? '';
  const pending = c.pendingFor(conv);
  const receipts = c.receiptsFor(conv);

  async function page(run: () => Promise<number>) {
    if (loading.current) return;
    loading.current = true;
    try {
      await run();
      setLoadError('');
    } catch (e) {
      setLoadError(errorText(e));
    } finally {
      loading.current = false;
    }
  }
  const loadOlder = () => tl?.hasMoreBefore && page(() => c.loadOlder(conv));
  const loadNewer = () => tl && !tl.loadedLatest && page(() => c.loadNewer(conv));

  function record() {
    const el = ref.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40 && (tl?.loadedLatest ?? true);
    snap.current = { height: el.scrollHeight, top: el.scrollTop, atBottom, first: firstKey };
    // New = messages from others below everything shown so far, plus those not loaded yet.
    const fold = el.getBoundingClientRect().bottom;
    const others = [...el.querySelectorAll<HTMLElement>('.msg[data-seq]:not(.mine)')];
    for (const m of others) if (m.getBoundingClientRect().top < fold) seen.current = Math.max(seen.current, Number(m.dataset.seq));
    let n = 0;
    for (const m of others) if (Number(m.dataset.seq) > seen.current) n++;
    if (tl && !tl.loadedLatest) n += Math.max(0, s.last_seq - tl.newestSeq());
    if (below.away !== !atBottom || below.n !== n) setBelow({ away: !atBottom, n });
  }

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const prev = snap.current;
    const marker = el.querySelector<HTMLElement>('.unread-marker');
    const focus = c.focusSeq.get(conv);
    const found = focus === undefined ? null : el.querySelector<HTMLElement>(`.msg[data-seq="${focus}"]`);
    if (found) {
      // Opened at a message (openAt): in the middle of the view, marked for a moment, focused.
      c.focusSeq.delete(conv);
      positioned.current = true;
      toBottom.current = false;
      el.scrollTop = found.offsetTop - Math.max(0, (el.clientHeight - found.offsetHeight) / 2);
      found.classList.add('found');
      setTimeout(() => found.classList.remove('found'), 3000);
      found.focus({ preventScroll: true });
    } else if (toBottom.current && tl?.loadedLatest) {
      toBottom.current = false;
      el.scrollTop = el.scrollHeight;
    } else if (!positioned.current && tl && firstKey) {
      // Opened: at the first unread (the marker at the top of the view), else at the bottom.
      positioned.current = true;
      el.scrollTop = marker ? marker.offsetTop - 8 : el.scrollHeight;
    } else if (prev.first && prev.first !== firstKey && prev.height) {
      // Older messages were inserted above: keep what the person was looking at in place.
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if (prev.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    record();
    // A short first page does not fill the view: keep loading until it scrolls or history ends.
    if (tl && firstKey && tl.hasMoreBefore && el.scrollHeight <= el.clientHeight) void loadOlder();
  });

  async function jump() {
    toBottom.current = true;
    snap.current.atBottom = true;
    if (tl && !tl.loadedLatest) await c.jumpToLatest(conv);
    else if (ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }

  // One tab stop: arrow keys move between messages, Enter or R replies to the focused one; Tab
  // goes through the focused message's links and buttons, then out of the list.
  function onKeyDown(e: KeyboardEvent) {
    const el = ref.current;
    if (!el || e.altKey || e.ctrlKey || e.metaKey) return;
    const current = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('.msg');
    if ((e.key === 'Enter' || e.key === 'r') && current?.dataset.seq && document.activeElement === current) {
      const ev = tl?.get(Number(current.dataset.seq));
      if (ev && ev.kind === 'message' && !s.left) {
        e.preventDefault();
        onReply(ev);
      }
      return;
    }
    const next = arrowTarget(el, e.key);
    if (!next) return;
    e.preventDefault();
    next.focus();
  }

  return (
    <div class="messages-wrap">
      <div
        class="messages"
        ref={ref}
        role="log"
        aria-label="Messages (arrow keys move between messages, Enter replies)"
        tabIndex={0}
        onKeyDown={onKeyDown}
        {...listeners}
        onScroll={() => {
          record();
          const el = ref.current;
          if (!el) return;
          if (el.scrollTop < 150) void loadOlder();
          if (el.scrollHeight - el.scrollTop - el.clientHeight < 150) void loadNewer();
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
              group={s.kind !== 'direct'}
              cont={r.cont}
              mine={mine}
              state={d?.state}
              readBy={d?.readBy}
              quoted={ev.reply_to ? tl?.get(ev.reply_to) : undefined}
              onReply={s.left || ev.deleted ? undefined : onReply}
              onEdit={mine && !s.left && !ev.deleted ? props.onEdit : undefined}
              canDelete={!s.left && !ev.deleted && (mine || s.role === 'owner' || s.role === 'admin')}
              onThread={props.onThread}
              canPin={mayPin(c, conv) && !ev.deleted}
              active={focused === ev.seq}
            />
          );
        })}
        {tl && !tl.loadedLatest && <p class="history-start muted">{loadError || 'Loading newer messages…'}</p>}
        {pending.map((pm) => (
          <PendingBubble key={`p-${pm.entry.client_id}`} c={c} pm={pm} />
        ))}
      </div>
      {below.away && (
        <button class="jump" data-testid="jump" onClick={() => void jump()}>
          {below.n > 0 ? `${below.n} new ↓` : 'Jump to latest ↓'}
        </button>
      )}
    </div>
  );
}
