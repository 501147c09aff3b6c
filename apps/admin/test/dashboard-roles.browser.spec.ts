import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AdminRole } from '@telehub/contracts';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminIfNeeded } from '../../../scripts/build-admin-if-needed.mjs';
import { as, createAdminToken } from '../../hub/test/support/admin-tokens.js';
import { provisionDevice } from '../../hub/test/support/devices.js';
import { startTestHub, type TestHub } from '../../hub/test/support/test-hub.js';
import { launchChromium, watchConsole } from './support/chromium.js';

/**
 * Roles in the dashboard, in real Chromium against the real hub: who is signed in is shown, what the role
 * cannot do is not offered, and an admin manages admin tokens (the secret shown once). Screenshots go to a
 * temporary directory, or to TELEHUB_SCREENSHOT_DIR.
 */

const UI_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe('dashboard roles and admin tokens (Chromium, real hub)', () => {
  let hub: TestHub;
  let dataDir: string;
  let screenshotDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleWatch: Awaited<ReturnType<typeof watchConsole>>;
  let deviceId: string;
  const tokens = {} as Record<Exclude<AdminRole, 'admin'>, { id: string; token: string }>;

  const poll = <T>(read: () => Promise<T>, timeout = UI_TIMEOUT_MS) => expect.poll(read, { timeout, interval: 100 });
  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const shoot = (name: string) => page.screenshot({ path: join(screenshotDir, `${name}.png`), animations: 'disabled' });

  /** Signs in afresh (whatever an earlier test left signed in). */
  async function signIn(token: string): Promise<void> {
    await page.goto(`${hub.baseUrl}/`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('live');
  }

  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
  }

  /** The device page, loaded, with its panels. */
  async function openDevice(): Promise<void> {
    await page.goto(`${hub.baseUrl}/#/devices/${deviceId}`);
    await poll(() => page.getByTestId('device-name').textContent()).toBe('roles-device');
    await page.getByTestId('tokens').locator('li').first().waitFor();
  }

  beforeAll(async () => {
    await buildAdminIfNeeded();
    hub = await startTestHub();
    dataDir = await mkdtemp(join(tmpdir(), 'telehub-dashboard-roles-'));
    screenshotDir = process.env.TELEHUB_SCREENSHOT_DIR
      ? resolve(process.env.TELEHUB_SCREENSHOT_DIR)
      : join(dataDir, 'screenshots');
    await mkdir(screenshotDir, { recursive: true });
    deviceId = (await provisionDevice(hub, 'roles-device')).id;
    await hub.api('POST', `/api/v1/devices/${deviceId}/commands`, { body: { name: 'reboot' } });
    for (const role of ['viewer', 'operator'] as const) {
      const created = await createAdminToken(hub, { name: `${role} desk`, role, expiresInSeconds: 7 * 86_400 });
      tokens[role] = { id: created.id, token: created.token };
    }
    browser = await launchChromium();
    context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.baseUrl });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    consoleWatch = await watchConsole(page);
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a viewer sees who is signed in, and no button that would change anything', async () => {
    await signIn(tokens.viewer.token);
    const who = page.getByTestId('signed-in-as');
    expect(await who.getAttribute('data-role')).toBe('viewer');
    expect(await who.textContent()).toContain('viewer desk');
    expect(await who.textContent()).toMatch(/expires in (6|7) d/);
    expect((await nav().getByRole('link').allTextContents()).map((text) => text.trim())).toEqual([
      'Overview',
      'Devices',
    ]);

    await nav().getByRole('link', { name: 'Devices' }).click();
    await page.locator(`tr[data-device-id="${deviceId}"]`).waitFor();
    for (const name of ['New device', 'Import CSV']) expect(await page.getByRole('button', { name }).count()).toBe(0);

    await openDevice();
    await page.locator('.command').first().waitFor();
    for (const name of ['Disable', 'Delete', 'Issue token', 'Revoke', 'Send', 'Cancel']) {
      expect({ name, count: await page.getByRole('button', { name, exact: true }).count() }).toEqual({
        name,
        count: 0,
      });
    }
    expect(await page.getByLabel('Command name').count()).toBe(0);
    expect(await page.getByTestId('commands-read-only').textContent()).toContain('Signed in as a viewer');
    // What it may do still works: the chart ranges, the command list.
    expect(await page.locator('.command').count()).toBe(1);
    await shoot('viewer-device');

    await page.goto(`${hub.baseUrl}/#/admin-tokens`);
    await page.getByText('Admin tokens are managed by admins').waitFor();
    await signOut();
  });

  it('an operator may send and cancel commands, and still not provision', async () => {
    await signIn(tokens.operator.token);
    expect(await page.getByTestId('signed-in-as').getAttribute('data-role')).toBe('operator');
    await openDevice();
    for (const name of ['Disable', 'Delete', 'Issue token', 'Revoke']) {
      expect({ name, count: await page.getByRole('button', { name, exact: true }).count() }).toEqual({
        name,
        count: 0,
      });
    }
    await page.getByLabel('Command name').fill('set_interval');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const sent = page.locator('.command', { hasText: 'set_interval' });
    await sent.waitFor();
    await sent.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => sent.getAttribute('data-status')).toBe('cancelled');
    await signOut();
  });

  it('an admin manages admin tokens: makes one (secret shown once, with a copy button) and revokes it', async () => {
    await signIn(hub.adminToken!);
    expect(await page.getByTestId('signed-in-as').getAttribute('data-role')).toBe('admin');
    await nav().getByRole('link', { name: 'Admin tokens' }).click();
    const table = page.getByTestId('admin-tokens');
    await table.locator('tr[data-token-name="environment"]').waitFor();
    expect(await table.locator('tr[data-token-name="environment"]').textContent()).toContain('you');
    expect(await table.locator('tr[data-token-name="environment"]').textContent()).toContain('set by the environment');
    expect(await table.locator('tbody tr').count()).toBe(3);
    await shoot('admin-tokens');

    await page.getByRole('button', { name: 'New token' }).click();
    await page.getByLabel('Name').fill('lobby screen');
    await page.getByRole('radio', { name: /^viewer/ }).check();
    await page.getByLabel('Expires').selectOption('90d');
    await page.getByRole('button', { name: 'Create token' }).click();

    const secret = (await page.getByTestId('admin-token-secret').textContent())!.trim();
    expect(secret).toMatch(/^tha_[A-Za-z0-9_-]{43}$/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await poll(() => page.getByRole('button', { name: 'Copy token' }).getAttribute('data-copied')).toBe('true');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await shoot('admin-token-created');
    const me = await hub.api('GET', '/api/v1/admin-tokens/me', as(secret));
    expect(me.body).toMatchObject({ name: 'lobby screen', role: 'viewer', source: 'api' });
    expect(Date.parse(me.body.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    await page.getByRole('button', { name: 'Done' }).click();

    // Shown once: the list has its hint, never the secret.
    const row = table.locator('tr[data-token-name="lobby screen"]');
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(await row.textContent()).toContain(`${secret.slice(0, 4)}…${secret.slice(-4)}`);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await poll(() => row.locator('.badge').last().textContent()).toBe('revoked');
    expect((await hub.api('GET', '/api/v1/devices', as(secret))).status).toBe(401);
  });

  it('fits a phone screen, with the role in the top bar', async () => {
    await page.setViewportSize(PHONE);
    try {
      await page.goto(`${hub.baseUrl}/#/admin-tokens`);
      await page.getByTestId('admin-tokens').locator('tr[data-token-name="environment"]').waitFor();
      expect(await page.getByTestId('signed-in-as').locator('.role-badge').isVisible()).toBe(true);
      // The links are icons here, still named.
      await nav().getByRole('link', { name: 'Devices' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('signs a viewer out, saying why, when its token is revoked while it is signed in', async () => {
    await signIn(tokens.viewer.token);
    expect((await hub.api('DELETE', `/api/v1/admin-tokens/${tokens.viewer.id}`)).status).toBe(200);
    await page.getByText('Your admin token was revoked.').waitFor();
    expect(await page.getByLabel('Admin token').isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('telehub.adminToken'))).toBeNull();

    // And it cannot sign in again with it.
    await page.getByLabel('Admin token').fill(tokens.viewer.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This admin token was revoked.').waitFor();
  });

  it('logged no errors in the browser console', () => {
    // The refused sign-in with the revoked token is a 401 the page expects and explains.
    expect(consoleWatch.errors.filter((error) => !/status of 401/.test(error))).toEqual([]);
  });
});
