// Names: former members keep theirs, people search ignores case, display names are shown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let bo: Page;
type Account = { token: string; user_id: number };
let ana: Account;
let cy: Account;
let group = 0;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = await server.api<Account>('register', { username: 'ana', password: 'password123' });
  cy = await server.api<Account>('register', { username: 'cy', password: 'password123' });
  bo = (await newUserPage(browser, server)).page;
  await register(bo, 'bo');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('a former member keeps their name in the timeline, the notes and the list preview', async () => {
  const me = JSON.parse((await bo.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}');
  group = (await server.api<{ conv: number }>('create_group', { title: 'Trip', members: [me.user_id, cy.user_id] }, ana.token)).conv;
  await server.api('send', { conv: group, client_id: 'c1', text: 'hi from cy' }, cy.token);
  await server.api('remove_member', { conv: group, user_id: cy.user_id }, ana.token);
  // Bo shares no other conversation with cy: only the profile operation knows the name now.
  await bo.reload();
  const item = bo.locator('.conv-item', { hasText: 'Trip' });
  await textIs(item.locator('.conv-preview'), 'cy: hi from cy', 'the list preview');
  await openConversation(bo, 'Trip');
  await textIs(bubble(bo, 'hi from cy').locator('.who'), 'cy', 'the name on the message');
  await textIs(bo.locator('.system', { hasText: 'removed' }), 'ana removed cy', 'the note');
  assert.equal(await bo.getByText(/user \d+/).count(), 0, 'no "user N" anywhere');
  await shot(bo, 'former-member-named');
});

test('people search ignores case', async () => {
  await bo.getByRole('button', { name: 'New chat' }).click();
  await bo.getByLabel('Find a person').fill('AN');
  await bo.getByRole('dialog').getByRole('button', { name: 'ana', exact: true }).waitFor();
  await bo.getByLabel('Find a person').fill('Cy');
  await bo.getByRole('dialog').getByRole('button', { name: 'cy', exact: true }).waitFor();
  await shot(bo, 'people-search-any-case');
  await bo.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
});

test('display names are set in the profile and shown in the list, the timeline and member lists', async () => {
  // Bo names himself.
  await bo.locator('.side-head .me').click();
  await bo.getByLabel('Display name').fill('  Bo Lindqvist ');
  await bo.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await textIs(bo.locator('.side-head .me'), 'Bo Lindqvist', 'own name in the header');
  // Ana sees it: the direct chat's title, the group's messages and members.
  const me = JSON.parse((await bo.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}');
  await server.api('create_direct', { user_id: me.user_id }, ana.token);
  const anaPage = (await newUserPage(browser, server)).page;
  await anaPage.getByLabel('Username').fill('ana');
  await anaPage.getByLabel('Password').fill('password123');
  await anaPage.getByRole('button', { name: 'Sign in' }).click();
  await anaPage.locator('.conv-title', { hasText: /^Bo Lindqvist$/ }).waitFor();
  await bo.locator('.conv-item', { hasText: 'Trip' }).click();
  await bo.getByLabel('Message', { exact: true }).fill('hello from Bo');
  await bo.getByLabel('Message', { exact: true }).press('Enter');
  await openConversation(anaPage, 'Trip');
  await textIs(bubble(anaPage, 'hello from Bo').locator('.who'), 'Bo Lindqvist', 'the name on the message');
  await textIs(anaPage.locator('.conv-item', { hasText: 'Trip' }).locator('.conv-preview'), 'Bo Lindqvist: hello from Bo', 'preview');
  await anaPage.getByRole('button', { name: 'Members' }).click();
  await textIs(anaPage.getByRole('dialog').locator('li[data-user="bo"] .member-name'), 'Bo Lindqvist (@bo)', 'member list');
  await shot(anaPage, 'display-names');
  await until('done', async () => true);
});
