// Modal panels: start a direct chat, create a group, browse and create channels, manage a group's members, list devices, the
// profile, and sign-out. Focus moves into a dialog, Tab stays inside it, and closing it returns
// focus to what opened it. Destructive actions ask first.
import { signal } from '@preact/signals';
import { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { Device, Member, shownName, UserBrief } from '../lib/types';
import { errorText } from './errors';
import { ago, listTime } from './format';
import { PinsList, SettingsForm } from './admin_ui';
import { DeleteMessage, EditHistory } from './message_parts';
import { endSession, version } from './state';
import { ThreadsList } from './thread';
import { ChannelDirectory, NewChannel } from './channels_ui';
import { useCreateForm } from './create_form';
import { SearchPanel } from './search_panel';
import { MentionsList } from './mentions_list';
import { PushSwitch } from './push_ui';

export type DialogState =
  | null
  | { kind: 'direct' }
  | { kind: 'group' }
  | { kind: 'channels' }
  | { kind: 'channel_new' }
  | { kind: 'members'; conv: number }
  | { kind: 'devices' }
  | { kind: 'profile' }
  | { kind: 'signout' }
  | { kind: 'delete'; conv: number; seq: number }
  | { kind: 'edits'; conv: number; seq: number }
  | { kind: 'threads' }
  | { kind: 'mentions' }
  | { kind: 'search' }
  | { kind: 'pins'; conv: number }
  | { kind: 'settings'; conv: number };

export const dialog = signal<DialogState>(null);

const TITLES: Record<NonNullable<DialogState>['kind'], string> = {
  direct: 'New chat',
  group: 'New group',
  channels: 'Channels',
  channel_new: 'New channel',
  members: 'Members',
  devices: 'Your devices',
  profile: 'Your profile',
  signout: 'Sign out',
  delete: 'Delete message',
  edits: 'Edit history',
  threads: 'Threads you follow',
  mentions: 'Mentions of you',
  search: 'Search messages',
  pins: 'Pinned messages',
  settings: 'Group settings',
};

export function Dialogs({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const d = dialog.value;
  if (!d) return null;
  const close = () => (dialog.value = null);
  let body;
  switch (d.kind) {
    case 'direct':
      body = <NewDirect c={c} close={close} />;
      break;
    case 'group':
      body = <NewGroup c={c} close={close} />;
      break;
    case 'channels':
      body = <ChannelDirectory c={c} close={close} create={() => (dialog.value = { kind: 'channel_new' })} />;
      break;
    case 'channel_new':
      body = <NewChannel c={c} close={close} />;
      break;
    case 'members':
      body = <Members c={c} conv={d.conv} close={close} />;
      break;
    case 'devices':
      body = <Devices c={c} />;
      break;
    case 'profile':
      body = <Profile c={c} close={close} />;
      break;
    case 'signout':
      body = <SignOut c={c} close={close} />;
      break;
    case 'delete':
      body = <DeleteMessage c={c} conv={d.conv} seq={d.seq} close={close} />;
      break;
    case 'edits':
      body = <EditHistory c={c} conv={d.conv} seq={d.seq} />;
      break;
    case 'threads':
      body = <ThreadsList c={c} close={close} />;
      break;
    case 'mentions':
      body = <MentionsList c={c} close={close} />;
      break;
    case 'search':
      body = <SearchPanel c={c} close={close} />;
      break;
    case 'pins':
      body = <PinsList c={c} conv={d.conv} close={close} />;
      break;
    case 'settings':
      body = <SettingsForm c={c} conv={d.conv} close={close} />;
      break;
  }
  return (
    <DialogFrame key={d.kind} title={TITLES[d.kind]} close={close}>
      {body}
    </DialogFrame>
  );
}

function focusables(root: HTMLElement): HTMLElement[] {
  const sel = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';
  return [...root.querySelectorAll<HTMLElement>(sel)].filter(
    (el) => !(el as HTMLButtonElement).disabled && el.tabIndex >= 0 && el.getClientRects().length > 0,
  );
}

function DialogFrame({ title, close, children }: { title: string; close: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  // What opened the dialog is read while rendering: by the time this layout effect runs, a field
  // inside has already taken focus (children's layout effects run first).
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useLayoutEffect(() => {
    const el = ref.current;
    // Focus moves into the dialog (so Escape and Tab work) unless a field takes it.
    if (el && !el.contains(document.activeElement)) el.focus();
    return () => {
      // Back to what opened it, unless focus went somewhere on purpose meanwhile.
      const now = document.activeElement;
      if (opener?.isConnected && (!now || now === document.body || el?.contains(now))) opener.focus();
    };
  }, []);

  function trap(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
      return;
    }
    if (e.key !== 'Tab' || !ref.current) return;
    const items = focusables(ref.current);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (e.shiftKey && (active === first || active === ref.current)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || active === ref.current)) {
      e.preventDefault();
      first.focus();
    }
  }

  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && close()}>
      <div ref={ref} tabIndex={-1} class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" onKeyDown={trap}>
        <header>
          <h2 id="dialog-title">{title}</h2>
          <button onClick={close} aria-label="Close">
            Close
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

/** "Are you sure?" in place, with the safe choice focused. */
export function Confirm(props: { text: string; detail?: string; confirmLabel: string; onConfirm: () => void; onCancel: () => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => cancel.current?.focus(), []);
  return (
    <div class="confirm" role="group" aria-labelledby="confirm-text" data-testid="confirm">
      <p id="confirm-text">
        <strong>{props.text}</strong>
      </p>
      {props.detail && <p class="muted">{props.detail}</p>}
      <div class="confirm-actions">
        <button class="danger" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
        <button ref={cancel} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** "Ana Lima (@ana)", or "ana" when no display name is set. */
function personLabel(u: UserBrief): string {
  return u.display_name && u.display_name !== u.username ? `${u.display_name} (@${u.username})` : u.username;
}

/** A username prefix search (find_users, any case); calls pick for the chosen user. */
// Focus is placed before the first paint (a layout effect), so a fast typist's first keys land
// in the field they see focused rather than being moved by a later effect.
function UserSearch(props: { c: ChatClient; pick: (u: UserBrief) => void; exclude?: Set<number>; label: string; focus?: boolean }) {
  const { c, pick, exclude, label, focus = true } = props;
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [q, setQ] = useState('');
  const [found, setFound] = useState<UserBrief[]>([]);
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => {
    if (focus) input.current?.focus();
  }, []);
  useEffect(() => {
    const prefix = q.trim();
    if (!prefix) {
      setFound([]);
      setError('');
      return;
    }
    let live = true;
    const t = setTimeout(async () => {
      try {
        const users = await c.findUsers(prefix);
        if (!live) return;
        setFound(users);
        setError(users.length ? '' : 'No one by that name.');
      } catch (e) {
        if (live) setError(errorText(e));
      }
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q]);
  const shown = found.filter((u) => !exclude?.has(u.user_id));
  return (
    <div class="user-search">
      <label>
        {label}
        <input ref={input} value={q} maxLength={32} placeholder="Start typing a username" onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </label>
      <p class="error" role="alert">
        {error}
      </p>
      <ul class="results" role="list">
        {shown.map((u) => (
          <li key={u.user_id}>
            <button
              type="button"
              onClick={() => {
                pick(u);
                setQ('');
              }}
            >
              {personLabel(u)}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function NewDirect({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [error, setError] = useState('');
  return (
    <div>
      <UserSearch
        c={c}
        label="Find a person"
        pick={async (u) => {
          try {
            const conv = await c.startDirect(u.user_id);
            close();
            await c.open(conv);
          } catch (e) {
            setError(errorText(e));
          }
        }}
      />
      <p class="error" role="alert">
        {error}
      </p>
    </div>
  );
}

function NewGroup({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [members, setMembers] = useState<UserBrief[]>([]);
  const { title, setTitle, error, titleInput, submit } = useCreateForm(c, close, 'Give the group a title.', (t) =>
    c.createGroup(t, members.map((m) => m.user_id)),
  );
  return (
    <form onSubmit={submit}>
      <label>
        Title
        <input ref={titleInput} name="title" value={title} maxLength={200} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      </label>
      <div class="chips" role="group" aria-label="Members to add">
        {members.map((m) => (
          <span class="chip" key={m.user_id}>
            {shownName(m)}
            <button type="button" aria-label={`Remove ${shownName(m)}`} onClick={() => setMembers(members.filter((x) => x.user_id !== m.user_id))}>
              ×
            </button>
          </span>
        ))}
      </div>
      <UserSearch c={c} label="Add people" focus={false} exclude={new Set(members.map((m) => m.user_id))} pick={(u) => setMembers([...members, u])} />
      <p class="error" role="alert">
        {error}
      </p>
      <button class="primary" type="submit">
        Create group
      </button>
    </form>
  );
}

const rank: Record<string, number> = { owner: 3, admin: 2, member: 1 };

function Members({ c, conv, close }: { c: ChatClient; conv: number; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [error, setError] = useState('');
  const [asking, setAsking] = useState<{ kind: 'remove' | 'ban'; m: Member } | { kind: 'leave' } | null>(null);
  const members: Member[] = c.members.get(conv) ?? [];
  const me = c.session.user_id;
  const myRole = members.find((m) => m.user_id === me)?.role ?? c.convs.get(conv)?.role ?? 'member';
  const canAdd = myRole === 'owner' || myRole === 'admin';
  const s = c.convs.get(conv);
  const title = s?.title ?? 'this group';
  const channel = s?.kind === 'channel';
  const what = channel ? 'channel' : 'group';
  useEffect(() => {
    if (channel) c.loadMembers(conv).catch((e) => setError(errorText(e))); // paged on demand
  }, [conv]);
  async function act(f: () => Promise<void>) {
    setError('');
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
    }
  }
  function askLeave() {
    setError('');
    if (myRole === 'owner' && members.some((m) => m.user_id !== me)) {
      setError(`You own this ${what}. Make another member the owner first (set their role to owner), then leave.`);
      return;
    }
    setAsking({ kind: 'leave' });
  }
  return (
    <div>
      {channel && (
        <p class="muted" data-testid="member-count">
          {c.memberCount.get(conv) ?? s?.channel?.member_count ?? members.length} members
        </p>
      )}
      <ul class="members" role="list">
        {members.map((m) => (
          <li key={m.user_id} data-user={m.username}>
            <span class="member-name">
              {personLabel(m)}
              {m.user_id === me ? ' (you)' : ''}
            </span>
            {myRole === 'owner' && m.user_id !== me ? (
              <select
                aria-label={`Role of ${shownName(m)}`}
                value={m.role}
                onChange={(e) => act(() => c.setRole(conv, m.user_id, (e.target as HTMLSelectElement).value))}
              >
                <option value="member">member</option>
                <option value="admin">admin</option>
                <option value="owner">owner</option>
              </select>
            ) : (
              <span class="role">{m.role}</span>
            )}
            {m.user_id !== me && canAdd && rank[myRole] > rank[m.role] && (
              <>
                <select
                  aria-label={`Mute ${shownName(m)}`}
                  value=""
                  onChange={(e) => {
                    const v = (e.target as HTMLSelectElement).value;
                    void act(() => (v === 'unmute' ? c.admin.unmute(conv, m.user_id) : c.admin.mute(conv, m.user_id, Number(v))));
                  }}
                >
                  <option value="">Mute…</option>
                  <option value="3600">for 1 hour</option>
                  <option value="86400">for a day</option>
                  <option value="604800">for a week</option>
                  <option value="unmute">Unmute</option>
                </select>
                <button onClick={() => setAsking({ kind: 'remove', m })} aria-label={`Remove ${shownName(m)}`}>
                  Remove
                </button>
                <button class="danger" onClick={() => setAsking({ kind: 'ban', m })} aria-label={`Ban ${shownName(m)}`}>
                  Ban
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {channel && c.hasMoreMembers(conv) && (
        <button onClick={() => void act(() => c.loadMoreMembers(conv))}>Show more members</button>
      )}
      {asking?.kind === 'ban' && (
        <Confirm
          text={`Ban ${shownName(asking.m)} from “${title}”?`}
          detail="They are removed and cannot be added again until the ban is lifted."
          confirmLabel="Ban"
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const m = asking.m;
            setAsking(null);
            void act(async () => {
              await c.admin.ban(conv, m.user_id, true);
              await c.loadMembers(conv);
            });
          }}
        />
      )}
      {asking?.kind === 'remove' && (
        <Confirm
          text={`Remove ${shownName(asking.m)} from “${title}”?`}
          detail="They will keep the messages up to now but receive nothing more."
          confirmLabel="Remove"
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const m = asking.m;
            setAsking(null);
            void act(() => c.removeMember(conv, m.user_id));
          }}
        />
      )}
      {canAdd && !asking && (
        <UserSearch
          c={c}
          label="Add a member"
          exclude={new Set(members.map((m) => m.user_id))}
          pick={(u) => act(() => c.addMembers(conv, [u.user_id]))}
        />
      )}
      <p class="error" role="alert">
        {error}
      </p>
      {asking?.kind === 'leave' ? (
        <Confirm
          text={`Leave “${title}”?`}
          detail={
            channel && s?.channel?.visibility === 'public'
              ? 'You will stop receiving its messages. You can join again from the channel directory.'
              : 'You will stop receiving its messages. Someone will have to add you again to rejoin.'
          }
          confirmLabel={`Leave ${what}`}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            setAsking(null);
            void act(async () => {
              await c.leave(conv);
              close();
            });
          }}
        />
      ) : (
        <button class="danger" onClick={askLeave}>
          Leave {what}
        </button>
      )}
    </div>
  );
}

function Devices({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [list, setList] = useState<{ devices: Device[]; current: number } | null>(null);
  const [error, setError] = useState('');
  const [asking, setAsking] = useState<Device | null>(null);
  async function load() {
    try {
      setList(await c.devices());
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => void load(), []);
  if (!list)
    return (
      <div>
        <PushSwitch />
        <p class="muted">{error || 'Loading…'}</p>
      </div>
    );
  const active = list.devices.filter((d) => !d.revoked_ts);
  // This device first, then the most recently active.
  const ordered = [...list.devices].sort(
    (a, b) =>
      Number(b.device_id === list.current) - Number(a.device_id === list.current) ||
      Number(!b.revoked_ts) - Number(!a.revoked_ts) ||
      (b.last_active_ms ?? b.created_ts) - (a.last_active_ms ?? a.created_ts),
  );
  return (
    <div>
      <PushSwitch />
      <p class="muted">
        {active.length} signed in{list.devices.length > active.length ? `, ${list.devices.length - active.length} signed out` : ''}.
      </p>
      <ul class="devices" role="list">
        {ordered.map((d) => (
          <li key={d.device_id} data-device={d.device_id} class={d.revoked_ts ? 'revoked' : ''}>
            <span>
              <strong>{d.name}</strong>
              {d.device_id === list.current && <span class="tag">This device</span>}
              <br />
              <span class="muted">
                {d.revoked_ts
                  ? `signed out ${listTime(d.revoked_ts)}`
                  : d.device_id === list.current
                    ? 'active now'
                    : `last active ${ago(d.last_active_ms ?? d.created_ts)}`}
                {` · added ${listTime(d.created_ts)}`}
              </span>
            </span>
            {!d.revoked_ts && (
              <button onClick={() => setAsking(d)} aria-label={`Sign out ${d.name}${d.device_id === list.current ? ' (this device)' : ''}`}>
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
      {asking && (
        <Confirm
          text={asking.device_id === list.current ? 'Sign out of this device?' : `Sign out “${asking.name}”?`}
          detail={
            asking.device_id === list.current
              ? 'This browser forgets your session and its unsent messages.'
              : 'It will need to sign in again to see your messages.'
          }
          confirmLabel="Sign out"
          onCancel={() => setAsking(null)}
          onConfirm={async () => {
            const d = asking;
            setAsking(null);
            try {
              if (d.device_id === list.current) {
                const revoked = await c.logout();
                endSession(revoked ? '' : OFFLINE_SIGNOUT_NOTICE);
                return;
              }
              await c.revokeDevice(d.device_id);
              await load();
            } catch (e) {
              setError(errorText(e));
            }
          }}
        />
      )}
      <p class="error" role="alert">
        {error}
      </p>
    </div>
  );
}

export const OFFLINE_SIGNOUT_NOTICE =
  'Signed out in this browser. The server could not be reached: it is told as soon as the connection returns, and until then this device still counts as signed in on your account.';

function SignOut({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const unsent = c.outbox.entries().length;
  const offline = c.status !== 'live';
  const lines: string[] = [];
  if (unsent) lines.push(`${unsent} unsent message${unsent > 1 ? 's' : ''} will be deleted from this browser.`);
  if (offline)
    lines.push(
      'You are offline: this browser forgets your session now, and the server is told when the connection returns. Until then this device stays signed in on your account.',
    );
  return (
    <Confirm
      text="Sign out of Confab in this browser?"
      detail={lines.join(' ') || undefined}
      confirmLabel="Sign out"
      onCancel={close}
      onConfirm={async () => {
        close();
        const revoked = await c.logout();
        endSession(revoked ? '' : OFFLINE_SIGNOUT_NOTICE);
      }}
    />
  );
}

const DISPLAY_NAME_MAX_BYTES = 64;

function Profile({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [name, setName] = useState(c.myDisplayName ?? '');
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => input.current?.focus(), []);
  async function save(e: Event) {
    e.preventDefault();
    const v = name.trim();
    if (new TextEncoder().encode(v).length > DISPLAY_NAME_MAX_BYTES) {
      setError('Choose a shorter name (at most 64 bytes).');
      return;
    }
    try {
      await c.setDisplayName(v);
      close();
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <form onSubmit={save}>
      <p class="muted">
        Your username is <strong>@{c.session.username}</strong>: people find you by it. Your display name is what they see.
      </p>
      <label>
        Display name
        <input ref={input} name="display_name" value={name} dir="auto" placeholder={c.session.username} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <p class="error" role="alert">
        {error}
      </p>
      <button class="primary" type="submit">
        Save
      </button>
    </form>
  );
}
