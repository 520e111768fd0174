import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeFilter, filterCompletions, filterQuery, hasFilter, latestOnly, pieces, snippet, toggleFilter } from '../../src/lib/search';

test('highlights are byte ranges of UTF-8: accents, CJK and emoji are cut where the server meant', () => {
  assert.deepEqual(pieces('Café au lait', [[0, 5]]), [
    { text: 'Café', hit: true },
    { text: ' au lait', hit: false },
  ]);
  assert.deepEqual(pieces('明天在北京见面', [[9, 15]]), [
    { text: '明天在', hit: false },
    { text: '北京', hit: true },
    { text: '见面', hit: false },
  ]);
  assert.deepEqual(
    pieces('🍕 pizza', [[5, 10]]).map((p) => p.hit),
    [false, true],
  );
});

test('ranges that overlap, go backwards or past the end are ignored; text stays text', () => {
  assert.deepEqual(pieces('<b>x</b>', [[3, 4]]), [
    { text: '<b>', hit: false },
    { text: 'x', hit: true },
    { text: '</b>', hit: false },
  ]);
  assert.deepEqual(pieces('abc', [[1, 2], [0, 3], [2, 9]]), [
    { text: 'a', hit: false },
    { text: 'b', hit: true },
    { text: 'c', hit: false },
  ]);
  assert.deepEqual(pieces('abc', []), [{ text: 'abc', hit: false }]);
});

test('a snippet starts shortly before the first hit and is cut to length', () => {
  const long = 'x'.repeat(100) + ' needle ' + 'y'.repeat(300);
  const s = snippet(pieces(long, [[101, 107]]), 50);
  assert.equal(s[0].text.startsWith('…'), true);
  assert.equal(s[1].text, 'needle');
  assert.equal(s.map((p) => p.text).join('').length <= 50 + 32, true);
});

test('the from:/in: filter at the caret is found; elsewhere, or inside quotes, nothing', () => {
  assert.deepEqual(filterQuery('cafe from:@an', 13), { start: 5, kind: 'from', prefix: 'an' });
  assert.deepEqual(filterQuery('in:#tr', 6), { start: 0, kind: 'in', prefix: 'tr' });
  assert.deepEqual(filterQuery('FROM:bo', 7), { start: 0, kind: 'from', prefix: 'bo' });
  assert.equal(filterQuery('cafe from:@an', 4), null);
  assert.equal(filterQuery('in:"a b', 7), null);
  assert.equal(filterQuery('information', 11), null);
});

test('completions: people by username or shown name, conversations by title, quoted when they hold spaces', () => {
  const people = [
    { username: 'ana', shown: 'Ana Lima' },
    { username: 'bo', shown: 'bo' },
  ];
  assert.deepEqual(filterCompletions('from', 'AN', people, []), [{ insert: 'from:@ana', label: 'Ana Lima (@ana)' }]);
  assert.deepEqual(filterCompletions('from', 'lim', people, []), []);
  assert.deepEqual(filterCompletions('from', 'ana l', people, []), [{ insert: 'from:@ana', label: 'Ana Lima (@ana)' }]);
  assert.deepEqual(filterCompletions('in', 't', people, ['Trip', 'Team plans', 'Trip']), [
    { insert: 'in:"Team plans"', label: 'Team plans' },
    { insert: 'in:#Trip', label: 'Trip' },
  ]);
  assert.deepEqual(completeFilter('cafe from:@an x', 5, 13, 'from:@ana'), { text: 'cafe from:@ana x', caret: 15 });
});

test('chips toggle a filter token in the query', () => {
  assert.equal(toggleFilter('cafe', 'has:link'), 'cafe has:link');
  assert.equal(toggleFilter('cafe  has:link from:@bo', 'has:link'), 'cafe from:@bo');
  assert.equal(hasFilter('x HAS:LINK', 'has:link'), true);
  assert.equal(hasFilter('x', 'has:link'), false);
});

test('only the latest search answer counts, even when an earlier one arrives after it', async () => {
  const pending: ((v: string) => void)[] = [];
  const call = latestOnly((q: string) => new Promise<string>((resolve) => pending.push((v) => resolve(`${q}:${v}`))));
  const first = call('newest');
  const second = call('relevance');
  pending[1]('ok'); // the later request answers first
  assert.deepEqual(await second, { stale: false, value: 'relevance:ok' });
  pending[0]('late');
  assert.deepEqual(await first, { stale: true });
  const failing = latestOnly(async () => {
    throw new Error('boom');
  });
  await assert.rejects(failing(), /boom/);
});
