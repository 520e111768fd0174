// Scrolling up loads history page by page, in order, without moving what is on screen.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { launch, newUserPage, openConversation, register, Server, shot, until } from './harness';

let server: Server;
let browser: Browser;
let fay: Page;
const N = 170; // messages: 4 pages of 50 with the created event

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  fay = (await newUserPage(browser, server, { width: 1000, height: 640 })).page;
  await register(fay, 'fay');
  const gus = await server.api<{ token: string }>('register', { username: 'gus', password: 'password123' });
  const { conv } = await server.api<{ conv: number }>('create_direct', { username: 'fay' }, gus.token);
  for (let i = 1; i <= N; i++) await server.api('send', { conv, client_id: `h-${i}`, text: `history message ${i}` }, gus.token);
  // Read already (on another device, say): the conversation opens at its latest page. (With
  // this much unread it would open at the first unread: unread.test.)
  const session = JSON.parse((await fay.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}');
  await server.api('read', { conv, seq: N + 1 }, session.token);
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const seqs = (p: Page) => p.locator('.messages [data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));

test('scroll-up history loads several pages in order with no gap, duplicate or jump', async () => {
  await openConversation(fay, 'gus');
  await fay.locator('.msg[data-seq="171"]').waitFor();
  const first = await seqs(fay);
  assert.equal(first[first.length - 1], N + 1);
  assert.equal(first.length, 50, 'the first page is 50 events');
  const list = fay.locator('.messages');
  let pages = 1;
  while ((await fay.getByText('This is the beginning of the conversation.').count()) === 0) {
    const before = await seqs(fay);
    const anchor = fay.locator(`.messages [data-seq="${before[0]}"]`);
    await list.evaluate((el) => (el.scrollTop = 0));
    const topBefore = await anchor.evaluate((el) => el.getBoundingClientRect().top);
    await until('an older page', async () => (await seqs(fay))[0] < before[0]);
    pages++;
    // What was on screen stays where it was: the older page went in above it.
    const topAfter = await anchor.evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(Math.abs(topAfter - topBefore) <= 2, `the view jumped by ${topAfter - topBefore}px`);
    assert.ok(pages < 10, 'history never ended');
  }
  const all = await seqs(fay);
  assert.deepEqual(
    all,
    Array.from({ length: N + 1 }, (_, i) => i + 1),
  );
  assert.ok(pages >= 4, `loaded ${pages} pages`);
  const texts = await fay.locator('.msg .text').allInnerTexts();
  assert.deepEqual(
    texts,
    Array.from({ length: N }, (_, i) => `history message ${i + 1}`),
  );
  await shot(fay, 'history-top');
});

test('a message arriving while reading old history does not move the view', async () => {
  const first = fay.locator('.messages [data-seq="1"]');
  const top = await first.evaluate((el) => el.getBoundingClientRect().top);
  const gus = await server.api<{ token: string }>('login', { username: 'gus', password: 'password123' });
  const convs = await server.api<{ conversations: { conv: number }[] }>('conversations', {}, gus.token);
  await server.api('send', { conv: convs.conversations[0].conv, client_id: 'late-1', text: 'a late message' }, gus.token);
  await fay.locator('.msg .text', { hasText: /^a late message$/ }).waitFor({ state: 'attached' });
  assert.equal(await first.evaluate((el) => el.getBoundingClientRect().top), top);
});
