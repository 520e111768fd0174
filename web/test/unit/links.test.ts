import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkParts, safeHref } from '../../src/lib/links';
import { rows } from '../../src/lib/timeline';
import { ChatEvent } from '../../src/lib/types';

test('http, https and mailto become links; trailing punctuation stays text', () => {
  assert.deepEqual(linkParts('see https://example.com/a?b=1. ok'), [
    { text: 'see ' },
    { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
    { text: '. ok' },
  ]);
  assert.deepEqual(linkParts('(http://x.org/wiki/A_(b)) end')[1], { text: 'http://x.org/wiki/A_(b)', href: 'http://x.org/wiki/A_(b)' });
  assert.equal(linkParts('mail mailto:ana@example.com!')[1].href, 'mailto:ana@example.com');
});

test('other schemes and broken URLs stay text', () => {
  for (const t of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:msgbox', 'file:///etc/passwd', 'http://', 'ftp://x.org', 'mailto:nobody']) {
    assert.ok(linkParts(t).every((p) => !p.href), t);
  }
  assert.equal(safeHref('JaVaScRiPt:alert(1)'), null);
  // Quotes and angle brackets end a candidate: no attribute can be smuggled in.
  assert.deepEqual(linkParts('https://a.example/"onmouseover="x'), [
    { text: 'https://a.example/', href: 'https://a.example/' },
    { text: '"onmouseover="x' },
  ]);
});

test('consecutive messages from one sender within five minutes are grouped', () => {
  const m = (seq: number, sender: number, ts: number): ChatEvent => ({ conv: 1, seq, kind: 'message', sender, device: 1, ts, text: 'x' });
  const t0 = new Date(2026, 0, 5, 12, 0).getTime();
  const r = rows([m(1, 2, t0), m(2, 2, t0 + 60000), m(3, 3, t0 + 61000), m(4, 3, t0 + 61000 + 5 * 60000)], 9, null);
  const cont = r.flatMap((x) => (x.kind === 'event' ? [x.cont] : []));
  assert.deepEqual(cont, [false, true, false, false]);
});
