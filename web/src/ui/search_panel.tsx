// Search (protocol section 6.5): a query box with the query language's filters as hints, results
// newest first or best match first with the matched words marked (the server's byte ranges, rendered as text), paged;
// a result opens its conversation (or its thread) at that message. Opened with the Search button,
// "/" or Ctrl+K.
import { useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { displayTitle } from '../lib/conversations';
import { pieces, snippet } from '../lib/search';
import { ChatEvent } from '../lib/types';
import { errorText } from './errors';
import { listTime } from './format';
import { version } from './state';

type Result = ChatEvent & { highlights: [number, number][] };

export function SearchPanel({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [q, setQ] = useState('');
  const [ran, setRan] = useState('');
  const [list, setList] = useState<Result[] | null>(null);
  const [sort, setSort] = useState<'newest' | 'relevance'>('newest');
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  async function run(query: string, before?: string, order = sort) {
    setError('');
    try {
      const r = await c.search(query, before, order);
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
          type="search"
          aria-label="Search for"
          placeholder='Words, "a phrase", from:@name, in:#group, has:link …'
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
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
      <p class="muted small">
        Filters: from:@user · in:#conversation · before:/after:/on:YYYY-MM-DD · has:link · has:mention · mentions:me · is:thread · is:pinned ·
        -word excludes · word* for a prefix
      </p>
      <p class="error" role="alert">
        {error}
      </p>
      {list?.length === 0 && <p class="muted">Nothing found for {ran}.</p>}
      <ul class="results search-results" role="list">
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
