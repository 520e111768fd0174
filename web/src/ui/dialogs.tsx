// Modal panels: start a direct chat, create a group, manage a group's members, list devices.
import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { Device, Member } from '../lib/types';
import { errorText } from './errors';
import { listTime } from './format';
import { endSession, version } from './state';

export type DialogState =
  | null
  | { kind: 'direct' }
  | { kind: 'group' }
  | { kind: 'members'; conv: number }
  | { kind: 'devices' };

export const dialog = signal<DialogState>(null);

export function Dialogs({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const d = dialog.value;
  if (!d) return null;
  const close = () => (dialog.value = null);
  let title = '';
  let body;
  switch (d.kind) {
    case 'direct':
      title = 'New chat';
      body = <NewDirect c={c} close={close} />;
      break;
    case 'group':
      title = 'New group';
      body = <NewGroup c={c} close={close} />;
      break;
    case 'members':
      title = 'Members';
      body = <Members c={c} conv={d.conv} close={close} />;
      break;
    case 'devices':
      title = 'Your devices';
      body = <Devices c={c} />;
      break;
  }
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && close()}>
      <div
        ref={(el) => {
          // Focus moves into the dialog (so Escape and Tab work) unless a field took it already.
          if (el && !el.contains(document.activeElement)) el.focus();
        }}
        tabIndex={-1}
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        onKeyDown={(e) => e.key === 'Escape' && close()}
      >
        <header>
          <h2 id="dialog-title">{title}</h2>
          <button onClick={close} aria-label="Close">
            Close
          </button>
        </header>
        {body}
      </div>
    </div>
  );
}

/** A username prefix search (find_users); calls pick for the chosen user. */
function UserSearch({ c, pick, exclude, label }: { c: ChatClient; pick: (u: { user_id: number; username: string }) => void; exclude?: Set<number>; label: string }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [q, setQ] = useState('');
  const [found, setFound] = useState<{ user_id: number; username: string }[]>([]);
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
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
              onClick={() => {
                pick(u);
                setQ('');
              }}
            >
              {u.username}
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
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<{ user_id: number; username: string }[]>([]);
  const [error, setError] = useState('');
  async function create(e: Event) {
    e.preventDefault();
    if (!title.trim()) {
      setError('Give the group a title.');
      return;
    }
    try {
      const conv = await c.createGroup(title.trim(), members.map((m) => m.user_id));
      close();
      await c.open(conv);
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <form onSubmit={create}>
      <label>
        Title
        <input name="title" value={title} maxLength={200} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      </label>
      <div class="chips" aria-label="Members to add">
        {members.map((m) => (
          <span class="chip" key={m.user_id}>
            {m.username}
            <button type="button" aria-label={`Remove ${m.username}`} onClick={() => setMembers(members.filter((x) => x.user_id !== m.user_id))}>
              ×
            </button>
          </span>
        ))}
      </div>
      <UserSearch c={c} label="Add people" exclude={new Set(members.map((m) => m.user_id))} pick={(u) => setMembers([...members, u])} />
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
  const members: Member[] = c.members.get(conv) ?? [];
  const me = c.session.user_id;
  const myRole = members.find((m) => m.user_id === me)?.role ?? c.convs.get(conv)?.role ?? 'member';
  const canAdd = myRole === 'owner' || myRole === 'admin';
  async function act(f: () => Promise<void>) {
    setError('');
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <div>
      <ul class="members" role="list">
        {members.map((m) => (
          <li key={m.user_id} data-user={m.username}>
            <span class="member-name">
              {m.username}
              {m.user_id === me ? ' (you)' : ''}
            </span>
            {myRole === 'owner' && m.user_id !== me ? (
              <select
                aria-label={`Role of ${m.username}`}
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
              <button onClick={() => act(() => c.removeMember(conv, m.user_id))} aria-label={`Remove ${m.username}`}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {canAdd && (
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
      <button
        class="danger"
        onClick={() =>
          act(async () => {
            await c.leave(conv);
            close();
          })
        }
      >
        Leave group
      </button>
    </div>
  );
}

function Devices({ c }: { c: ChatClient }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [list, setList] = useState<{ devices: Device[]; current: number } | null>(null);
  const [error, setError] = useState('');
  async function load() {
    try {
      setList(await c.devices());
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => void load(), []);
  if (!list) return <p class="muted">{error || 'Loading…'}</p>;
  return (
    <div>
      <ul class="devices" role="list">
        {list.devices.map((d) => (
          <li key={d.device_id}>
            <span>
              <strong>{d.name}</strong>
              {d.device_id === list.current ? ' (this device)' : ''}
              <br />
              <span class="muted">
                added {listTime(d.created_ts)}
                {d.revoked_ts ? ` · signed out ${listTime(d.revoked_ts)}` : ''}
              </span>
            </span>
            {!d.revoked_ts && (
              <button
                onClick={async () => {
                  try {
                    if (d.device_id === list.current) {
                      await c.logout();
                      endSession();
                      return;
                    }
                    await c.revokeDevice(d.device_id);
                    await load();
                  } catch (e) {
                    setError(errorText(e));
                  }
                }}
              >
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
      <p class="error" role="alert">
        {error}
      </p>
    </div>
  );
}
