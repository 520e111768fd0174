// Search (protocol section 6.5): a query box that completes from:/in: filters with people and
// conversations (a combobox: arrow keys, Enter or Tab, Escape), chips that toggle the other
// filters, results newest first or best match first with the matched words marked (the server's
// byte ranges, rendered as text), paged, reached with the arrow keys; a result opens its
// conversation (or its thread) at that message. Opened with the Search button, "/" or Ctrl+K.
import { useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { displayTitle } from '../lib/conversations';
import { completeFilter, filterCompletions, filterQuery, hasFilter, latestOnly, pieces, snippet, toggleFilter } from '../lib/search';
import { ChatEvent } from '../lib/types';
import { errorText } from './errors';
import { listTime } from './format';
import { version } from './state';

type Result = ChatEvent & { highlights: [number, number][] };

const CHIPS: [token: string, label: string][] = [
  ['has:link', 'Has a link'],
  ['mentions:me', 'Mentions me'],
  ['is:thread', 'In threads'],
  ['is:pinned', 'Pinned'],
];

/** Arrow keys, Home and End move the focus between the result buttons. */
function moveInResults(e: KeyboardEvent) {
  const list = e.currentTarget as HTMLElement;
  const buttons = [...list.querySelectorAll<HTMLButtonElement>('li > button')];
  const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
  if (to === undefined || i < 0) return;
  e.preventDefault();
  buttons[Math.max(0, Math.min(buttons.length - 1, to))]?.focus();
}

export function SearchPanel({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [q, setQ] = useState('');
  const [ran, setRan] = useState('');
  const [list, setList] = useState<Result[] | null>(null);
  const [sort, setSort] = useState<'newest' | 'relevance'>('newest');
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const results = useRef<HTMLUListElement>(null);
  // from:/in: completion at the caret, one candidate active; Escape closes it for this token.
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(-1);
  const fq = filterQuery(q, caret);
  const people = [...c.names.usernames].map(([id, username]) => ({ username, shown: c.nameOf(id) }));
  const titles = c.convs.ordered().filter((s) => s.kind !== 'direct' && s.title).map((s) => s.title as string);
  const found = fq && fq.start !== dismissed ? filterCompletions(fq.kind, fq.prefix, people, titles) : [];
  const shownActive = Math.min(active, found.length - 1);
  function setQuery(text: string, at: number) {
    setQ(text);
    setCaret(at);
    setActive(0);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(at, at);
    });
  }
  function pick(insert: string) {
    if (!fq) return;
    const r = completeFilter(q, fq.start, caret, insert);
    setQuery(r.text, r.caret);
  }
  function onInputKey(e: KeyboardEvent) {
    if (found.length > 0) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setActive((shownActive + (e.key === 'ArrowDown' ? 1 : found.length - 1)) % found.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(found[shownActive].insert);
        return;
      }
      if (e.key === 'Escape' && fq) {
        e.preventDefault();
        e.stopPropagation(); // closes the list, not the dialog
        setDismissed(fq.start);
        return;
      }
    }
    if (e.key === 'ArrowDown' && results.current) {
      e.preventDefault();
      results.current.querySelector<HTMLButtonElement>('li > button')?.focus();
    }
  }
  // Only the latest request's answer is shown: an earlier one answered later (a query sent
  // twice, then the sort changed) would replace newer results with older ones.
  const [searchLatest] = useState(() => latestOnly((query: string, before: string | undefined, order: 'newest' | 'relevance') => c.search(query, before, order)));
  async function run(query: string, before?: string, order = sort) {
    setError('');
    try {
      const a = await searchLatest(query, before, order);
      if (a.stale) return;
      const r = a.value;
      setRan(query);
      setList((old) => [...(before ? (old ?? []) : []), ...r.results]);
      setNext(r.next);
    } catch (e) {
      setError(errorText(e));
      if (!before) setList(null);
    }
  }
  function go(m: Result) {
    close();
    if (m.thread_root !== undefined) void c.open(m.conv).then(() => c.openThread(m.conv, m.thread_root as number));
    else void c.openAt(m.conv, m.seq);
  }
  return (
    <div class="search-panel">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) void run(q.trim());
        }}
      >
        <input
          ref={input}
          type="search"
          aria-label="Search for"
          placeholder='Words, "a phrase", from:@name, in:#group, has:link …'
          value={q}
          role="combobox"
          list={undefined}
          aria-autocomplete="list"
          aria-expanded={found.length > 0}
          aria-controls="search-filter-options"
          aria-activedescendant={found.length > 0 ? `search-filter-${shownActive}` : undefined}
          onInput={(e) => {
            const el = e.target as HTMLInputElement;
            setQ(el.value);
            setCaret(el.selectionStart ?? el.value.length);
            setActive(0);
          }}
          onKeyUp={(e) => {
            const el = e.target as HTMLInputElement;
            if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End') setCaret(el.selectionStart ?? 0);
          }}
          onClick={(e) => setCaret((e.target as HTMLInputElement).selectionStart ?? 0)}
          onKeyDown={onInputKey}
          maxLength={1024}
          dir="auto"
        />
        <button type="submit">Search</button>
        <select
          aria-label="Sort results"
          value={sort}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value as 'newest' | 'relevance';
            setSort(v);
            if (ran) void run(ran, undefined, v);
          }}
        >
          <option value="newest">Newest first</option>
          <option value="relevance">Best match first</option>
        </select>
      </form>
      {found.length > 0 && (
        <ul class="mentions-list filter-options" role="listbox" id="search-filter-options" aria-label={fq?.kind === 'from' ? 'People' : 'Conversations'}>
          {found.map((f, i) => (
            <li
              key={f.insert}
              id={`search-filter-${i}`}
              role="option"
              aria-selected={i === shownActive}
              onMouseDown={(e) => {
                e.preventDefault(); // keeps the focus in the query box
                pick(f.insert);
              }}
            >
              {f.label}
            </li>
          ))}
        </ul>
      )}
      <div class="chips" role="group" aria-label="Filters">
        <button type="button" onClick={() => setQuery(`${q.trim()} from:@`.trimStart(), `${q.trim()} from:@`.trimStart().length)}>
          From…
        </button>
        <button type="button" onClick={() => setQuery(`${q.trim()} in:#`.trimStart(), `${q.trim()} in:#`.trimStart().length)}>
          In…
        </button>
        {CHIPS.map(([token, label]) => (
          <button
            type="button"
            key={token}
            aria-pressed={hasFilter(q, token)}
            onClick={() => {
              const t = toggleFilter(q, token);
              setQuery(t, t.length);
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <p class="muted small">
        Also: before:/after:/on:YYYY-MM-DD · has:mention · -word excludes · word* for a prefix · "a phrase"
      </p>
      <p class="error" role="alert">
        {error}
      </p>
      {list?.length === 0 && <p class="muted">Nothing found for {ran}.</p>}
      <ul class="results search-results" role="list" ref={results} onKeyDown={moveInResults}>
        {(list ?? []).map((m) => {
          const s = c.convs.get(m.conv);
          const where = s ? (s.kind === 'direct' ? c.nameOf(m.sender) : displayTitle(s, c.session.user_id)) : `Conversation ${m.conv}`;
          return (
            <li key={`${m.conv}-${m.seq}`} data-conv={m.conv} data-seq={m.seq}>
              <button onClick={() => go(m)}>
                <strong>{where}</strong>
                {m.thread_root !== undefined ? ' (thread)' : ''}
                {': '}
                <span class="who">{c.nameOf(m.sender)}</span>{' '}
                <span dir="auto" class="snippet">
                  {snippet(pieces(m.text ?? '', m.highlights ?? [])).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : p.text))}
                </span>{' '}
                <time class="muted">{listTime(m.ts)}</time>
              </button>
            </li>
          );
        })}
      </ul>
      {next && <button onClick={() => void run(ran, next)}>{sort === 'newest' ? 'Show older results' : 'Show more results'}</button>}
    </div>
  );
}
