// Channels (issue 12): create public and private channels, find and join through the directory,
// live messages through channel_event frames, catching up after being offline (channel_heads and
// the channel's log), members paged on demand, leaving, and unread shown as 999+.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, textIs, until } from './harness';

type Account = { token: string; user_id: number };

let server: Server;
let browser: Browser;
let ana: Page;
let ben: Page;
let benCtx: BrowserContext;
let ana_: Account;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  const b = await newUserPage(browser, server);
  ben = b.page;
  benCtx = b.ctx;
  await register(ana, 'ana');
  await register(ben, 'ben');
  ana_ = await server.api<Account>('login', { username: 'ana', password: 'password123' });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

async function createChannel(page: Page, name: string, topic: string, visibility: 'Public' | 'Private') {
  await page.getByRole('button', { name: 'Channels', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'New channel' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Topic').fill(topic);
  await page.getByLabel(new RegExp(`^${visibility}:`)).check();
  await page.getByRole('button', { name: 'Create channel' }).click();
  await page.getByRole('heading', { name: `# ${name}`, exact: true }).waitFor();
}

test('a public channel is found in the directory by its topic, joined, and messages flow both ways', async () => {
  await createChannel(ana, 'General', 'Everything about the launch', 'Public');
  await textIs(ana.getByTestId('presence'), 'Public channel · 1 members · Everything about the launch', 'header');
  await sendMessage(ana, 'Welcome to general');
  await bubble(ana, 'Welcome to general').waitFor();

  await ben.getByRole('button', { name: 'Channels', exact: true }).click();
  await ben.getByLabel('Search channels').fill('LAUNCH'); // the topic, any case
  const row = ben.getByRole('dialog').locator('li[data-channel="General"]');
  await row.waitFor();
  await textIs(row.locator('.muted'), '1 member · Everything about the launch', 'directory row');
  await shot(ben, 'channel-directory');
  await ben.getByRole('button', { name: 'Join General' }).click();
  await ben.getByRole('heading', { name: '# General', exact: true }).waitFor();
  await bubble(ben, 'Welcome to general').waitFor(); // history from before the join
  await sendMessage(ben, 'Hi all');
  await bubble(ana, 'Hi all').waitFor();
  await sendMessage(ana, 'Glad you are here');
  await bubble(ben, 'Glad you are here').waitFor();
  await textIs(bubble(ben, 'Glad you are here').locator('.who'), 'ana', 'sender name in a channel');
  await shot(ben, 'channel-conversation');
});

test('a device offline while messages were posted catches up when it reconnects, in order, once each', async () => {
  // Ben keeps General open; the channel's events come back through channel_heads and the log.
  const benCursor = await ben.evaluate(() => JSON.stringify(localStorage));
  assert.ok(benCursor.includes('.channels'), 'the channel cursor is stored per device');
  await benCtx.setOffline(true);
  await ben.locator('.banner[data-status="offline"]').waitFor();
  const conv = await convId(ana, 'General');
  for (let i = 1; i <= 12; i++) await server.api('send', { conv, client_id: `off${i}`, text: `while away ${i}` }, ana_.token);
  await benCtx.setOffline(false);
  await bubble(ben, 'while away 12').waitFor();
  const away = (await ben.locator('.msg .text').allTextContents()).filter((t) => t.startsWith('while away'));
  assert.deepEqual(
    away,
    Array.from({ length: 12 }, (_, i) => `while away ${i + 1}`),
    'every missed message once, in order',
  );
  // After a reload too (the stored cursor, then history), nothing is repeated.
  await ben.reload();
  await openConversation(ben, '# General');
  await bubble(ben, 'while away 12').waitFor();
  const again = (await ben.locator('.msg .text').allTextContents()).filter((t) => t.startsWith('while away'));
  assert.equal(new Set(again).size, again.length, 'no message twice after a reload');
});

test('a private channel is not listed; its admins add members, who see it at once', async () => {
  await createChannel(ana, 'Secret plans', 'Only for some', 'Private');
  await ben.getByRole('button', { name: 'Channels', exact: true }).click();
  await ben.getByLabel('Search channels').fill('secret');
  await ben.getByRole('dialog').getByText('No public channel matches.').waitFor();
  await ben.getByRole('button', { name: 'Close' }).click();
  await ana.getByRole('button', { name: 'Members' }).click();
  await ana.getByLabel('Add a member').fill('be');
  await ana.getByRole('dialog').getByRole('button', { name: 'ben', exact: true }).click();
  await ana.getByRole('dialog').locator('li[data-user="ben"]').waitFor();
  await ana.getByRole('button', { name: 'Close' }).click();
  await ben.locator('.conv-title', { hasText: '# Secret plans' }).waitFor();
  await sendMessage(ana, 'First secret');
  await openConversation(ben, '# Secret plans');
  await bubble(ben, 'First secret').waitFor();
  await textIs(ben.getByTestId('presence'), 'Private channel · 2 members · Only for some', 'header');
});

test('members are paged on demand with the member count', async () => {
  const conv = await convId(ana, 'Secret plans');
  const ids: number[] = [];
  for (let i = 0; i < 55; i++) {
    const u = await server.api<Account>('register', { username: `crowd${String(i).padStart(2, '0')}`, password: 'password123' });
    ids.push(u.user_id);
  }
  await server.api('add_members', { conv, users: ids }, ana_.token);
  await ana.getByRole('button', { name: 'Members' }).click();
  await textIs(ana.getByTestId('member-count'), '57 members', 'count');
  const first = await ana.getByRole('dialog').locator('li[data-user]').count();
  assert.equal(first, 50, 'one page of 50');
  await ana.getByRole('button', { name: 'Show more members' }).click();
  await until('the second page', async () => (await ana.getByRole('dialog').locator('li[data-user]').count()) === 57);
  assert.equal(await ana.getByRole('button', { name: 'Show more members' }).count(), 0, 'no more pages');
  await shot(ana, 'channel-members');
  await ana.getByRole('button', { name: 'Close' }).click();
});

test('unread counts above 999 show as 999+', async () => {
  const conv = await convId(ana, 'General');
  await openConversation(ben, '# Secret plans'); // General is not open: its messages are unread
  const sends = [];
  for (let i = 0; i < 1001; i++) sends.push(server.api('send', { conv, client_id: `bulk${i}`, text: `bulk ${i}` }, ana_.token));
  for (let i = 0; i < sends.length; i += 50) await Promise.all(sends.slice(i, i + 50));
  await ben.reload(); // the summary's count (capped at 1000) rather than 1001 live increments
  const badge = ben.locator('.conv-item', { has: ben.locator('.conv-title', { hasText: /^# General$/ }) }).locator('.badge').last();
  await textIs(badge, '999+', 'capped badge');
  await shot(ben, 'channel-unread-capped');
});

test('leaving a public channel asks first; it can be joined again from the directory', async () => {
  await openConversation(ben, '# General');
  await ben.getByRole('button', { name: 'Members' }).click();
  await ben.getByRole('button', { name: 'Leave channel' }).click();
  await ben.getByTestId('confirm').getByText('You can join again from the channel directory.').waitFor();
  await ben.getByTestId('confirm').getByRole('button', { name: 'Leave channel' }).click();
  await until('General to leave the list', async () => (await ben.locator('.conv-title', { hasText: /^# General$/ }).count()) === 0);
  await ben.getByRole('button', { name: 'Channels', exact: true }).click();
  await ben.getByRole('button', { name: 'Join General' }).waitFor();
  await ben.getByRole('button', { name: 'Close' }).click();
});

async function convId(page: Page, title: string): Promise<number> {
  const item = page.locator('.conv-item', { has: page.locator('.conv-title', { hasText: new RegExp(`^# ${title}$`) }) });
  return Number(await item.getAttribute('data-conv'));
}
