// The application shell: sign-in, the conversation list and the open conversation.

import { useEffect, useState } from 'preact/hooks';
import { displayTitle, initials, otherMember } from '../lib/conversations';
import { ChatClient } from '../lib/client';
import { Session, Summary } from '../lib/types';
import { ConversationView } from './conversation';
import { Dialogs, dialog } from './dialogs';
import { ThreadPanel } from './thread';
import { AdminView } from './server_admin_ui';
import { errorText } from './errors';
import { countText, listTime } from './format';
import { adminOpen, client, http, shellNotice, signInNotice, startClient, version } from './state';

export function App() {
  const c = client.value;
  return c ? <Shell c={c} /> : <SignIn />;
}

function SignIn() {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    if (!username.trim() || !password) {
      setError('Enter a username and a password.');
      return;
    }
    if (mode === 'register' && password.length < 8) {
      setError('Choose a password of at least 8 characters.');
      return;
    }
    setBusy(true);
    try {
      const s = await http.call<Session>(mode, { username: username.trim(), password, device_name: deviceName() });
      signInNotice.value = '';
      startClient(s);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form class="card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Confab</h1>
        <p class="muted">{mode === 'login' ? 'Sign in to chat.' : 'Create an account.'}</p>
        {signInNotice.value && <p class="notice">{signInNotice.value}</p>}
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            value={username}
            maxLength={32}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        <p class="error" role="alert">
          {error}
        </p>
        <button class="primary" type="submit" disabled={busy}>
          {mode === 'login' ? 'Sign in' : 'Create account'}
        </button>
        <button
          type="button"
          class="link"
          onClick={() => {
            setMode(mode === 'login' ? 'register' : 'login');
            setError('');
          }}
        >
          {mode === 'login' ? 'New here? Create an account' : 'Have an account? Sign in'}
        </button>
      </form>
    </main>
  );
}

function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom/.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return `${browser}${os ? ' on ' + os : ''}`.slice(0, 64);
}

function Shell({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here

  useEffect(() => {
    // Search opens with Ctrl+K anywhere, or "/" when not typing in a field.
    function key(e: KeyboardEvent) {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
      if ((e.key === 'k' && (e.ctrlKey || e.metaKey)) || (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey)) {
        e.preventDefault();
        dialog.value = { kind: 'search' };
      }
    }
    document.addEventListener('keydown', key);
    return () => {
      document.removeEventListener('keydown', key);
      adminOpen.value = false; // signed out: the next session starts with its conversations
    };
  }, []);
  const open = c.openConv;
  // The Administration view is for server administrators only (admin_server answered them);
  // opening a conversation (from the list, search, mentions...) puts it away.
  const isServerAdmin = c.server.role === 'admin';
  const adminShown = isServerAdmin && adminOpen.value;
  useEffect(() => {
    adminOpen.value = false;
  }, [open]);
  const unread = c.convs.totalUnread();
  document.title = unread ? `(${unread}) Confab` : 'Confab';
  return (
    <div
      class={`shell ${open !== null || adminShown ? 'has-open' : ''} ${!adminShown && open !== null && c.threads.open?.conv === open ? 'has-thread' : ''}`}
      data-server-admin={c.server.role}
    >
      <Banner c={c} />
      <aside class="sidebar" aria-label="Conversations">
        <h1 class="sr-only">Confab</h1>
        <header class="side-head">
          <span class="avatar" aria-hidden="true">
            {initials(c.nameOf(c.session.user_id))}
          </span>
          <button class="me link-plain" title={`@${c.session.username}: edit your profile`} onClick={() => (dialog.value = { kind: 'profile' })}>
            {c.nameOf(c.session.user_id)}
          </button>
          <button onClick={() => (dialog.value = { kind: 'devices' })} title="Devices">
            Devices
          </button>
          <button onClick={() => (dialog.value = { kind: 'signout' })}>Sign out</button>
        </header>
        <div class="side-actions">
          <button class="primary" onClick={() => (dialog.value = { kind: 'direct' })}>
            New chat
          </button>
          <button onClick={() => (dialog.value = { kind: 'group' })}>New group</button>
          <button onClick={() => (dialog.value = { kind: 'channels' })}>Channels</button>
          <button onClick={() => (dialog.value = { kind: 'threads' })}>Threads</button>
          <button onClick={() => (dialog.value = { kind: 'mentions' })}>Mentions</button>
          <button onClick={() => (dialog.value = { kind: 'search' })} aria-keyshortcuts="/ Control+K">
            Search
          </button>
          {isServerAdmin && (
            <button aria-pressed={adminShown} onClick={() => (adminOpen.value = !adminOpen.value)}>
              Administration
            </button>
          )}
        </div>
        <ConversationList c={c} />
      </aside>
      <main class="main">
        {adminShown ? (
          <AdminView c={c} close={() => (adminOpen.value = false)} />
        ) : open !== null && c.convs.get(open) ? (
          <>
            <ConversationView key={open} c={c} conv={open} />
            {c.threads.open?.conv === open && <ThreadPanel key={`t-${c.threads.open.root}`} c={c} conv={open} />}
          </>
        ) : (
          <div class="empty">
            <p>Select a conversation, or start a new one.</p>
          </div>
        )}
      </main>
      <Dialogs c={c} />
    </div>
  );
}

function Banner({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  let text = '';
  let cls = 'banner';
  if (c.status === 'offline') {
    const pending = c.outbox.pending().length;
    text = `Offline — trying to reconnect.${pending ? ` ${pending} message${pending > 1 ? 's' : ''} will be sent when the connection returns.` : ''}`;
    cls += ' offline';
  } else if (c.status === 'connecting' || c.status === 'syncing') {
    text = c.status === 'connecting' ? 'Connecting…' : 'Catching up…';
    cls += ' connecting';
  } else if (c.notice) {
    text = c.notice;
    cls += ' offline';
  } else if (shellNotice.value) {
    text = shellNotice.value;
    cls += ' offline';
  }
  return (
    <div class={cls} role="status" aria-live="polite" data-status={c.status}>
      {text}
      {c.status === 'offline' && (
        <button class="link" onClick={() => c.reconnectNow()}>
          Retry now
        </button>
      )}
      {c.status !== 'offline' && !c.notice && shellNotice.value && (
        <button class="link" onClick={() => (shellNotice.value = '')}>
          Dismiss
        </button>
      )}
    </div>
  );
}


function ConversationList({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here

  const items = c.convs.ordered();
  if (!c.loaded) return <p class="muted pad">Loading…</p>;
  if (items.length === 0) return <p class="muted pad">No conversations yet.</p>;
  return (
    <ul class="conv-list" role="list">
      {items.map((s) => (
        <ConversationItem key={s.conv} c={c} s={s} />
      ))}
    </ul>
  );
}

function ConversationItem({ c, s }: { c: ChatClient; s: Summary }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const me = c.session.user_id;
  const title = displayTitle(s, me);
  const other = otherMember(s, me);
  const p = other !== undefined ? c.presence.get(other) : undefined;
  const live = c.status === 'live';
  const last = s.last_message;
  let preview = '';
  if (s.left) preview = 'You are no longer a member';
  else if (last) {
    const who = last.sender === me ? 'You: ' : s.kind !== 'direct' ? `${c.nameOf(last.sender)}: ` : '';
    preview = who + (last.text ?? '');
  } else preview = s.kind === 'group' ? 'Group created' : s.kind === 'channel' ? s.channel?.topic || 'Channel created' : 'No messages yet';
  const selected = c.openConv === s.conv;
  return (
    <li>
      <button
        class={`conv-item ${selected ? 'selected' : ''}`}
        aria-current={selected ? 'true' : undefined}
        data-conv={s.conv}
        onClick={() => {
          adminOpen.value = false;
          void c.open(s.conv);
        }}
      >
        <span class="avatar" aria-hidden="true">
          {initials(title)}
          {p && <span class={`dot ${p.online && live ? 'online' : ''} ${live ? '' : 'unknown'}`} />}
        </span>
        <span class="conv-body">
          <span class="conv-top">
            <span class="conv-title">{title}</span>
            <time class="conv-time">{s.last_ts ? listTime(s.last_ts) : ''}</time>
          </span>
          <span class="conv-bottom">
            <span class="conv-preview" dir="auto">
              {preview}
            </span>
            {(s.unread_mentions ?? 0) > 0 && (
              <span class="badge mention-badge" data-testid="mention-badge" aria-label={`${countText(s.unread_mentions ?? 0)} unread mentions`}>
                @{countText(s.unread_mentions ?? 0)}
              </span>
            )}
            {s.unread > 0 && (
              <span class="badge" aria-label={`${countText(s.unread)} unread`}>
                {countText(s.unread)}
              </span>
            )}
          </span>
        </span>
        {p && <span class="sr-only">{!live ? 'presence unknown' : p.online ? 'online' : 'offline'}</span>}
      </button>
    </li>
  );
}
