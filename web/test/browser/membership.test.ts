// Membership changes: a removed member keeps the conversation read-only; leaving, removing and
// signing out a device ask first; an owner who tries to leave is told what to do.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
type Account = { token: string; user_id: number };
let bo: Account;
let cy: Account;
const errors: string[] = [];

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  ana.on('pageerror', (e) => errors.push(e.message));
  await register(ana, 'ana');
  bo = await server.api<Account>('register', { username: 'bo', password: 'password123' });
  cy = await server.api<Account>('register', { username: 'cy', password: 'password123' });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const anaId = async () => JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').user_id as number;

test("a removed member's open conversation stays, read-only, with a notice", async () => {
  const { conv } = await server.api<{ conv: number }>('create_group', { title: 'Bo’s team', members: [await anaId(), cy.user_id] }, bo.token);
  await server.api('send', { conv, client_id: 'b1', text: 'welcome aboard' }, bo.token);
  await openConversation(ana, 'Bo’s team');
  await bubble(ana, 'welcome aboard').waitFor();
  await server.api('remove_member', { conv, user_id: await anaId() }, bo.token);
  await textIs(ana.getByTestId('left-notice'), /no longer a member/, 'the notice');
  // Still open and readable; nothing can be sent.
  assert.equal(await ana.getByRole('heading', { name: 'Bo’s team', exact: true }).count(), 1);
  assert.equal(await bubble(ana, 'welcome aboard').count(), 1);
  assert.equal(await ana.getByLabel('Message', { exact: true }).count(), 0, 'no composer');
  await textIs(ana.locator('.system').last(), 'bo removed ana', 'the removal note');
  await shot(ana, 'removed-read-only');
  assert.deepEqual(errors, [], 'no uncaught errors');
});

test('remove and leave ask first; the owner is told to hand over ownership before leaving', async () => {
  await ana.getByRole('button', { name: 'New group' }).click();
  await ana.getByLabel('Title').fill('Club');
  for (const who of ['bo', 'cy']) {
    await ana.getByLabel('Add people').fill(who);
    await ana.getByRole('dialog').getByRole('button', { name: who, exact: true }).click();
  }
  await ana.getByRole('button', { name: 'Create group' }).click();
  await ana.getByRole('heading', { name: 'Club', exact: true }).waitFor();
  await ana.getByRole('button', { name: 'Members' }).click();
  const dialog = ana.getByRole('dialog');
  const confirm = dialog.getByTestId('confirm');
  // Remove: asks, Cancel keeps bo.
  await dialog.getByRole('button', { name: 'Remove bo' }).click();
  await textIs(confirm.locator('strong'), 'Remove bo from “Club”?', 'the question');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await dialog.locator('li[data-user="bo"]').count(), 1, 'bo is still a member');
  await dialog.getByRole('button', { name: 'Remove bo' }).click();
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await until('bo to be removed', async () => (await dialog.locator('li[data-user="bo"]').count()) === 0);
  // The owner cannot just leave: told how, not "not allowed".
  await dialog.getByRole('button', { name: 'Leave group' }).click();
  await textIs(dialog.locator('.error[role="alert"]').last(), /Make another member the owner first/, 'the explanation');
  assert.equal(await confirm.count(), 0);
  await shot(ana, 'owner-cannot-leave');
  await dialog.getByRole('combobox', { name: 'Role of cy' }).selectOption('owner');
  await until('cy to be the owner', async () => (await dialog.locator('li[data-user="cy"] .role, li[data-user="cy"] select').first().evaluate((e) => (e as HTMLSelectElement).value ?? e.textContent)) === 'owner' || (await dialog.locator('li[data-user="cy"]').innerText()).includes('owner'));
  await dialog.getByRole('button', { name: 'Leave group' }).click();
  await textIs(confirm.locator('strong'), 'Leave “Club”?', 'the question');
  await confirm.getByRole('button', { name: 'Leave group' }).click();
  await until('Club to leave the list', async () => (await ana.locator('.conv-title', { hasText: /^Club$/ }).count()) === 0);
});
