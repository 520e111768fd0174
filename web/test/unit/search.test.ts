import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pieces, snippet } from '../../src/lib/search';

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
