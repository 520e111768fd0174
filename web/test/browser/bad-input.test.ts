// Bad input gets a clear message and changes nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { launch, newUserPage, Server, shot, startDirect, textIs } from './harness';

let server: Server;
let browser: Browser;
let page: Page;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  page = (await newUserPage(browser, server)).page;
  await server.api('register', { username: 'kim', password: 'password123' });
  await server.api('register', { username: 'lou', password: 'password123' });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const alert = () => page.locator('form').getByRole('alert');

test('a wrong password says so', async () => {
  await page.getByLabel('Username').fill('kim');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await textIs(alert(), 'Wrong username or password.', 'sign-in error');
  await shot(page, 'wrong-password');
});

test('registration problems are explained', async () => {
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Username').fill('kim');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await textIs(alert(), 'Choose a password of at least 8 characters.', 'short password');
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await textIs(alert(), 'That username is taken. Choose another one.', 'taken username');
  await page.getByLabel('Username').fill('no spaces');
  await page.getByRole('button', { name: 'Create account' }).click();
  await textIs(alert(), 'Username may contain only a-z, A-Z, 0-9, _ . -.', 'bad characters (from the server)');
});

test('empty and too-long messages are refused with a clear message and not sent', async () => {
  await page.getByLabel('Username').fill('kim');
  await page.getByRole('button', { name: 'Have an account? Sign in' }).click();
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await startDirect(page, 'lou');
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('   ');
  await box.press('Enter');
  await textIs(page.getByTestId('composer-error'), 'Type a message first.', 'empty message');
  await box.fill('x'.repeat(16385));
  await box.press('Enter');
  await textIs(
    page.getByTestId('composer-error'),
    'This message is too long: 16385 bytes, the limit is 16384. Shorten it or split it into several messages.',
    'too-long message',
  );
  assert.equal(await page.locator('.msg').count(), 0, 'nothing was sent');
  assert.equal((await box.inputValue()).length, 16385, 'the text is kept for editing');
});
