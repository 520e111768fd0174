// A group of three: messages, "read by", a member added mid-conversation; eve uses a phone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let cara: Page;
let dan: Page;
let eve: Page;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  cara = (await newUserPage(browser, server)).page;
  dan = (await newUserPage(browser, server)).page;
  eve = (await newUserPage(browser, server, { width: 390, height: 780 })).page;
  await register(cara, 'cara');
  await register(dan, 'dan');
  await register(eve, 'eve');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('a group is created with a title and members, and messages reach everyone', async () => {
  await cara.getByRole('button', { name: 'New group' }).click();
  await cara.getByLabel('Title').fill('Trip to Porto');
  await cara.getByLabel('Add people').fill('da');
  await cara.getByRole('dialog').getByRole('button', { name: 'dan', exact: true }).click();
  await cara.getByRole('button', { name: 'Create group' }).click();
  await cara.getByRole('heading', { name: 'Trip to Porto' }).waitFor();
  await sendMessage(cara, 'Who is in for Friday?');
  await openConversation(dan, 'Trip to Porto');
  await bubble(dan, 'Who is in for Friday?').waitFor();
  await textIs(bubble(dan, 'Who is in for Friday?').locator('.who'), 'cara', 'sender name in the group');
});

test('"read by" names the members who read a message', async () => {
  const mine = bubble(cara, 'Who is in for Friday?');
  await textIs(mine.locator('.state'), 'Read by dan', "state of cara's message");
});

test('a member added mid-conversation sees the history and takes part', async () => {
  await cara.getByRole('button', { name: 'Members' }).click();
  await cara.getByLabel('Add a member').fill('ev');
  await cara.getByRole('dialog').getByRole('button', { name: 'eve', exact: true }).click();
  await cara.getByRole('dialog').locator('li[data-user="eve"]').waitFor();
  await shot(cara, 'group-members');
  await cara.getByRole('button', { name: 'Close' }).click();
  // Eve's list gets the group live; on a phone the list and the conversation are separate screens.
  await eve.locator('.conv-title', { hasText: 'Trip to Porto' }).waitFor();
  await textIs(eve.locator('.conv-preview'), 'cara: Who is in for Friday?', "eve's preview names the sender");
  await shot(eve, 'phone-list');
  await openConversation(eve, 'Trip to Porto');
  await bubble(eve, 'Who is in for Friday?').waitFor();
  await eve.locator('.system', { hasText: 'cara added eve' }).waitFor();
  await sendMessage(cara, 'Welcome, eve!');
  await bubble(eve, 'Welcome, eve!').waitFor();
  await bubble(dan, 'Welcome, eve!').waitFor();
  await textIs(bubble(cara, 'Welcome, eve!').locator('.state'), 'Read by dan, eve', "state once both read");
  await sendMessage(eve, 'Count me in');
  await bubble(cara, 'Count me in').waitFor();
  await textIs(bubble(dan, 'Count me in').locator('.who'), 'eve', 'sender name of the new member');
  await shot(eve, 'phone-conversation');
  // The member list shows all three with their roles.
  await cara.getByRole('button', { name: 'Members' }).click();
  const names = await cara.getByRole('dialog').locator('li[data-user]').evaluateAll((els) => els.map((e) => e.getAttribute('data-user')));
  assert.deepEqual(names, ['cara', 'dan', 'eve']);
  await cara.getByRole('button', { name: 'Close' }).click();
});

test('several people typing are named together', async () => {
  await dan.getByLabel('Message', { exact: true }).pressSequentially('hm', { delay: 20 });
  await eve.getByLabel('Message', { exact: true }).pressSequentially('ok', { delay: 20 });
  await until('cara to see both typing', async () => {
    const t = (await cara.getByTestId('typing').innerText()).trim();
    return t === 'dan and eve are typing…' || t === 'eve and dan are typing…' || `"${t}"`;
  });
});

test('the owner changes a role; a member leaves', async () => {
  await cara.getByRole('button', { name: 'Members' }).click();
  await cara.getByLabel('Role of dan').selectOption('admin');
  await cara.locator('.system', { hasText: 'cara made dan admin' }).waitFor();
  await cara.getByRole('button', { name: 'Close' }).click();
  // Dan, now an admin, may remove members but not change roles.
  await dan.getByRole('button', { name: 'Members' }).click();
  await textIs(dan.getByRole('dialog').locator('li[data-user="dan"] .role'), 'admin', "dan's role as dan sees it");
  assert.equal(await dan.getByRole('dialog').getByRole('button', { name: 'Remove eve' }).count(), 1);
  assert.equal(await dan.getByRole('dialog').getByRole('combobox', { name: /^Role of/ }).count(), 0, 'an admin changes no roles');
  await dan.getByRole('button', { name: 'Close' }).click();
  await eve.getByRole('button', { name: 'Members' }).click();
  await eve.getByRole('button', { name: 'Leave group' }).click();
  await eve.getByTestId('confirm').getByRole('button', { name: 'Leave group' }).click(); // it asks first
  await until('the group to leave eve\'s list', async () => (await eve.locator('.conv-title', { hasText: 'Trip to Porto' }).count()) === 0);
  await cara.locator('.system', { hasText: 'eve left' }).waitFor();
});
