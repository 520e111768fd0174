// A group's settings, pins, moderation and notification levels, as an owner and a member see
// them: the owner makes it an announcement group (the member's composer gives way to a notice),
// pins a message (the member sees it in Pins), mutes and bans; the member's notification level
// takes the group out of the tab title's count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let owner: Page;
let bo: Page;
type Account = { token: string; user_id: number };
let cy: Account;
const errors: string[] = [];

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  owner = (await newUserPage(browser, server)).page;
  bo = (await newUserPage(browser, server)).page;
  for (const p of [owner, bo]) p.on('pageerror', (e) => errors.push(e.message));
  await register(owner, 'ana');
  await register(bo, 'bo');
  cy = await server.api<Account>('register', { username: 'cy', password: 'password123' });
  await owner.getByRole('button', { name: 'New group' }).click();
  await owner.getByLabel('Title').fill('News');
  for (const who of ['bo', 'cy']) {
    await owner.getByLabel('Add people').fill(who);
    await owner.getByRole('dialog').getByRole('button', { name: who, exact: true }).click();
  }
  await owner.getByRole('button', { name: 'Create group' }).click();
  await owner.getByRole('heading', { name: 'News', exact: true }).waitFor();
  await sendMessage(owner, 'Welcome to the news group');
  await openConversation(bo, 'News');
  await bubble(bo, 'Welcome to the news group').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('the owner makes it an announcement group; a member sees why there is no composer', async () => {
  await owner.getByRole('button', { name: 'Settings' }).click();
  const form = owner.getByRole('dialog');
  await form.getByLabel('Description').fill('Company news, owners and admins only');
  await form.getByLabel('Who may post').selectOption('admins');
  await shot(owner, 'group-settings');
  await form.getByRole('button', { name: 'Save' }).click();
  await textIs(bo.getByTestId('announce-notice'), 'Only owners and admins post in this group.', "bo's notice");
  assert.equal(await bo.getByLabel('Message', { exact: true }).count(), 0);
  await bo.locator('.system', { hasText: /let only admins post/ }).waitFor();
  // The member sees the settings, read-only.
  await bo.getByRole('button', { name: 'Settings' }).click();
  assert.equal(await bo.getByRole('dialog').getByLabel('Who may post').isDisabled(), true);
  await bo.keyboard.press('Escape');
  // The server enforces it too: a member's send is refused with a typed error.
  const boToken = JSON.parse((await bo.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').token as string;
  const conv = Number(await owner.locator('.conv-item.selected').getAttribute('data-conv'));
  await assert.rejects(server.api('send', { conv, client_id: 'x1', text: 'hi' }, boToken), /forbidden|not_allowed|post/);
  await owner.getByRole('button', { name: 'Settings' }).click();
  await owner.getByRole('dialog').getByLabel('Who may post').selectOption('everyone');
  await owner.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await bo.getByLabel('Message', { exact: true }).waitFor();
});

test('a pinned message is listed in Pins for everyone; a member may not pin by default', async () => {
  const msg = bubble(owner, 'Welcome to the news group');
  await msg.hover();
  await msg.getByRole('button', { name: /^Pin: Welcome/ }).click();
  await bo.locator('.system', { hasText: 'ana pinned a message' }).waitFor();
  await bo.getByRole('button', { name: 'Pins' }).click();
  const pins = bo.getByRole('dialog').locator('.pin');
  await textIs(pins.first().locator('.pin-text'), /Welcome to the news group/, 'the pin on the member side');
  assert.equal(await bo.getByRole('dialog').getByRole('button', { name: /^Unpin/ }).count(), 0, 'a member does not unpin');
  await shot(bo, 'pins');
  await bo.keyboard.press('Escape');
  await bubble(bo, 'Welcome to the news group').hover();
  assert.equal(await bubble(bo, 'Welcome to the news group').getByRole('button', { name: /^Pin/ }).count(), 0);
  await msg.hover();
  await msg.getByRole('button', { name: /^Unpin: Welcome/ }).click();
  await bo.locator('.system', { hasText: 'ana unpinned a message' }).waitFor();
});

test('a muted member cannot post until unmuted; a banned one is removed and cannot be re-added', async () => {
  await owner.getByRole('button', { name: 'Members' }).click();
  const dialog = owner.getByRole('dialog');
  await dialog.getByLabel('Mute bo').selectOption('3600');
  await bo.locator('.system', { hasText: /ana muted bo for/ }).waitFor();
  await textIs(bo.getByTestId('muted-notice'), /An admin muted you here until/, "bo's notice in place of the composer");
  const boToken = JSON.parse((await bo.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').token as string;
  const convId = Number(await owner.locator('.conv-item.selected').getAttribute('data-conv'));
  await assert.rejects(server.api('send', { conv: convId, client_id: 'm1', text: 'can I still talk?' }, boToken), /forbidden/);
  await dialog.getByLabel('Mute bo').selectOption('unmute');
  await bo.locator('.system', { hasText: 'ana unmuted bo' }).waitFor();
  await bo.getByLabel('Message', { exact: true }).waitFor();
  await dialog.getByRole('button', { name: 'Ban cy' }).click();
  await dialog.getByRole('button', { name: 'Ban', exact: true }).click();
  await owner.locator('.system', { hasText: 'ana banned cy' }).waitFor();
  const conv = Number(await owner.locator('.conv-item.selected').getAttribute('data-conv'));
  await assert.rejects(server.api('send', { conv, client_id: 'cy1', text: 'still here?' }, cy.token), /forbidden/);
  await until('cy gone from the list', async () => (await dialog.locator('li[data-user="cy"]').count()) === 0);
  await dialog.getByLabel('Add a member').fill('cy');
  await dialog.getByRole('button', { name: 'cy', exact: true }).click();
  await textIs(dialog.locator('p.error[role=alert]').last(), /banned/i, 'adding a banned user is refused');
  await shot(owner, 'moderation');
  await owner.keyboard.press('Escape');
});

test('notify nothing takes the group out of the tab title count; its badge still counts', async () => {
  await openConversation(bo, 'News');
  await bo.getByRole('combobox', { name: 'Notifications' }).selectOption('none');
  await until('the level saved', async () => (await bo.getByRole('combobox', { name: 'Notifications' }).inputValue()) === 'none');
  await bo.locator('.conv .messages').press('Escape'); // closes the conversation: what arrives now is unread
  await bo.getByText('Select a conversation, or start a new one.').waitFor();
  await sendMessage(owner, 'Quiet news');
  const item = bo.locator('.conv-item', { hasText: 'News' });
  await textIs(item.locator('.badge').last(), '1', "the group's own unread badge");
  assert.equal(await bo.title(), 'Confab', 'no count in the title for a group set to nothing');
  await shot(bo, 'notify-none');
  // Back to all: the same unread counts in the title again.
  await openConversation(bo, 'News');
  await bo.getByRole('combobox', { name: 'Notifications' }).selectOption('all');
  await until('the level saved', async () => (await bo.getByRole('combobox', { name: 'Notifications' }).inputValue()) === 'all');
  assert.deepEqual(errors, [], 'no uncaught errors');
});
