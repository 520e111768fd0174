// Threads and mentions in a group of three: @ autocompletes and highlights, the mention badge
// counts and clears; a thread opens beside the conversation, its replies stay out of the main
// timeline, the root's summary and the threads list follow; a reply can also go to the
// conversation; on a phone the thread is its own screen.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, resize, sendMessage, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
let bo: Page;
type Account = { token: string; user_id: number };
let cy: Account;
let conv = 0;
const errors: string[] = [];

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  bo = (await newUserPage(browser, server)).page;
  for (const p of [ana, bo]) p.on('pageerror', (e) => errors.push(e.message));
  await register(ana, 'ana');
  await register(bo, 'bo');
  cy = await server.api<Account>('register', { username: 'cy', password: 'password123' });
  const boId = JSON.parse((await bo.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').user_id as number;
  const anaId = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').user_id as number;
  conv = (await server.api<{ conv: number }>('create_group', { title: 'Team', members: [anaId, boId] }, cy.token)).conv;
  await server.api('send', { conv, client_id: 'c1', text: 'Plan for Friday?' }, cy.token);
  await openConversation(ana, 'Team');
  await bubble(ana, 'Plan for Friday?').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('@ autocompletes members; the mention is highlighted and counted until read', async () => {
  const box = ana.getByLabel('Message', { exact: true });
  await box.click();
  await box.pressSequentially('thoughts @b');
  const options = ana.getByRole('listbox', { name: 'People to mention' }).getByRole('option');
  await until('bo offered', async () => (await options.count()) >= 1 || 'none');
  assert.match(await options.first().innerText(), /^@bo/);
  await box.press('Enter'); // picks, does not send
  assert.equal(await box.inputValue(), 'thoughts @bo ');
  await box.pressSequentially('?');
  await box.press('Enter');
  // Bo is not in the conversation: his list shows a mention badge.
  const item = bo.locator('.conv-item', { hasText: 'Team' });
  await textIs(item.getByTestId('mention-badge'), '@1', "bo's mention badge");
  await shot(bo, 'mention-badge');
  await openConversation(bo, 'Team');
  const m = bo.locator('.msg .mention', { hasText: '@bo' });
  await m.waitFor();
  assert.match((await m.getAttribute('class')) ?? '', /\bme\b/, 'a mention of me stands out');
  await until('the badge to clear once read', async () => (await item.getByTestId('mention-badge').count()) === 0);
  // A token the server did not resolve (no such member) is plain text.
  await sendMessage(bo, 'ask @nobody');
  await bubble(ana, 'ask @nobody').waitFor();
  assert.equal(await bubble(ana, 'ask @nobody').locator('.mention').count(), 0);
});

test('Mentions lists the messages that mention me, newest first, and opens their conversation', async () => {
  await server.api('send', { conv, client_id: 'c2', text: '@bo can you book the table?' }, cy.token);
  await bo.getByRole('button', { name: 'Mentions', exact: true }).click();
  const rows = bo.getByRole('dialog').locator('.mentions-list li');
  await until('two mentions listed', async () => (await rows.count()) === 2 || String(await rows.count()));
  const texts = await rows.allInnerTexts();
  assert.match(texts[0], /^Team: cy @bo can you book the table\?/, 'newest first');
  assert.match(texts[1], /^Team: ana thoughts @bo \?/);
  await shot(bo, 'mentions-list');
  await rows.first().getByRole('button').click();
  await bo.getByRole('heading', { name: 'Team', exact: true }).waitFor();
  await bubble(bo, '@bo can you book the table?').waitFor();
});

test('a thread opens beside the conversation; replies stay out of the timeline; the root summary follows', async () => {
  const root = bubble(bo, 'Plan for Friday?');
  await root.hover();
  await root.getByRole('button', { name: /^Reply in a thread to cy/ }).click();
  const panel = bo.getByRole('complementary', { name: 'Thread' });
  await panel.waitFor();
  await panel.getByLabel('Reply in thread').fill('I can do the slides');
  await panel.getByLabel('Reply in thread').press('Enter');
  await panel.locator('.msg .text', { hasText: 'I can do the slides' }).waitFor();
  // Not in the conversation's timeline; the root says 1 reply, on both sides.
  assert.equal(await bo.locator('.conv .messages .text', { hasText: 'I can do the slides' }).count(), 0);
  await textIs(bubble(ana, 'Plan for Friday?').getByTestId('thread-line').locator('strong'), '1 reply', "ana's root summary");
  await shot(bo, 'thread-panel');
  // By keyboard: the panel's list is one Tab stop, arrow keys move between its messages, and Tab
  // reaches the focused message's buttons.
  const focusedLabel = () => bo.evaluate(() => `${document.activeElement?.tagName.toLowerCase()} ${document.activeElement?.getAttribute('aria-label') ?? ''}`);
  await panel.locator('.thread-messages').focus();
  await bo.keyboard.press('ArrowUp');
  assert.match(await focusedLabel(), /^div You, .*I can do the slides$/, 'ArrowUp: the newest reply');
  await bo.keyboard.press('Home');
  assert.match(await focusedLabel(), /^div cy, .*Plan for Friday\?$/, 'Home: the root');
  await bo.keyboard.press('ArrowDown');
  await bo.keyboard.press('Tab');
  assert.match(await focusedLabel(), /^button .*I can do the slides$/, "Tab: the reply's first button");
  // Ana opens it from the summary, replies and also sends to the conversation.
  await bubble(ana, 'Plan for Friday?').getByTestId('thread-line').click();
  const apanel = ana.getByRole('complementary', { name: 'Thread' });
  await apanel.locator('.msg .text', { hasText: 'I can do the slides' }).waitFor();
  // Typing in the thread shows in bo's open thread, not in his conversation's typing line.
  await apanel.getByLabel('Reply in thread').pressSequentially('Gre', { delay: 20 });
  await textIs(bo.getByTestId('thread-typing'), 'ana is typing…', "bo's thread typing line");
  assert.equal((await bo.getByTestId('typing').innerText()).trim(), '', 'not in the conversation');
  await apanel.getByLabel('Reply in thread').fill('');
  await apanel.getByLabel('Also send to the conversation').check();
  await apanel.getByLabel('Reply in thread').fill('Great, I book the room');
  await apanel.getByLabel('Reply in thread').press('Enter');
  // In bo's open thread panel and in his timeline, marked as a thread reply.
  await bo.getByRole('complementary', { name: 'Thread' }).locator('.msg .text', { hasText: 'Great, I book the room' }).waitFor();
  await bo.locator('.conv .messages .msg', { hasText: 'Great, I book the room' }).locator('.in-thread').waitFor();
  await textIs(bubble(bo, 'Plan for Friday?').first().getByTestId('thread-line').locator('strong'), '2 replies', 'the count after two');
});

test('the threads list shows followed threads with unread replies; following can be turned off', async () => {
  await bo.getByRole('button', { name: 'Close thread' }).click();
  const rootSeq = Number(await bubble(bo, 'Plan for Friday?').getAttribute('data-seq'));
  await server.api('send', { conv, client_id: 'c3', text: 'and I bring snacks!', thread_root: rootSeq }, cy.token);
  await bo.getByRole('button', { name: 'Threads' }).click();
  const entry = bo.getByRole('dialog').locator('.threads-list li', { hasText: 'Plan for Friday?' });
  await textIs(entry, /3 replies · 1 new/, 'the followed thread with one unread');
  await shot(bo, 'threads-list');
  await entry.getByRole('button').click();
  const panel = bo.getByRole('complementary', { name: 'Thread' });
  await panel.locator('.msg .text', { hasText: 'and I bring snacks!' }).waitFor();
  await until('the thread read', async () => !/new/.test(await bubble(bo, 'Plan for Friday?').getByTestId('thread-line').innerText()));
  await panel.getByRole('button', { name: 'Following' }).click();
  await panel.getByRole('button', { name: 'Follow' }).waitFor();
  await bo.getByRole('button', { name: 'Close thread' }).click();
  await bo.getByRole('button', { name: 'Threads' }).click();
  await textIs(bo.getByRole('dialog').locator('p.muted'), /You follow no threads yet/, 'the empty list');
  await bo.keyboard.press('Escape');
  // Closed before the next test clicks: a click while the modal is still open lands on it, and the
  // thread never opens (3 of 5 runs failed so).
  await bo.getByRole('dialog').waitFor({ state: 'hidden' });
});

test('on a phone the thread is its own screen', async () => {
  await resize(bo, { width: 390, height: 800 });
  // By keyboard: a mouse click right after the resize sometimes did not open the thread (1 run in
  // 8 here; the screenshot showed the line re-wrapped into three narrow columns, no notice, no
  // error). The cause is not found: see the closing note of this change.
  const line = bubble(bo, 'Plan for Friday?').getByTestId('thread-line');
  await line.focus();
  await bo.keyboard.press('Enter');
  const panel = bo.getByRole('complementary', { name: 'Thread' });
  await panel.waitFor();
  assert.equal(await bo.locator('.conv').isVisible(), false, 'the conversation is hidden behind the thread');
  await shot(bo, 'thread-phone');
  await bo.getByRole('button', { name: 'Close thread' }).click();
  await bo.locator('.conv').waitFor();
  await resize(bo, { width: 1100, height: 720 });
  assert.deepEqual(errors, [], 'no uncaught errors');
});
