import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePort } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAdminIfNeeded } from '../../../scripts/build-admin-if-needed.mjs';
import { generateToken } from '../../hub/src/auth/token-codec.js';
import { startTestHub, type TestHub } from '../../hub/test/support/test-hub.js';
import { launchChromium, watchConsole } from './support/chromium.js';
import { publishBacklog, type SimulatedDevice, startMqttDevice } from './support/mqtt-device.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * The dashboard in real Chromium against the real hub (in this process, real PostgreSQL), with a real MQTT.js
 * device: sign in, create a device, watch its chart move, send it a command, restart the hub.
 *
 * Screenshots go to a temporary directory; to refresh the README's, run with
 * TELEHUB_SCREENSHOT_DIR=docs/screenshots.
 */

/** How often the simulated device publishes. */
const PUBLISH_INTERVAL_MS = 200;
/** The readings it sends at once when it connects, as a device back from being offline would… */
const BACKLOG_SPAN_MS = 14 * 60_000;
/** …one every this often. */
const BACKLOG_STEP_MS = 5000;
/** Waits for something the page shows: generous, the machine is shared. */
const UI_TIMEOUT_MS = 15_000;
/** The dashboard notices a silent (dropped) connection within its silence timeout plus one ping interval. */
const DROP_NOTICED_MS = 25_000;
const DESKTOP = { width: 1280, height: 800 };

/** mosquitto-clients, for running the snippet the page shows; CI installs it with Chromium. */
const MOSQUITTO_PUB = (() => {
  try {
    return execFileSync('which', ['mosquitto_pub']).toString().trim() || undefined;
  } catch {
    return undefined;
  }
})();
const PHONE = { width: 390, height: 844 };

describe('dashboard (Chromium, real hub, MQTT.js device)', () => {
  let database: TestDatabase;
  let dataDir: string;
  let screenshotDir: string;
  let env: Record<string, string>;
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleWatch: Awaited<ReturnType<typeof watchConsole>>;
  let proxy: TcpProxy;
  let device: { id: string; token: string } | undefined;
  let loopSnippet = '';
  let simulated: SimulatedDevice | undefined;

  /** Polls until the page shows it (vitest's own default gives up after one second). */
  const poll = <T>(read: () => Promise<T>, timeout = UI_TIMEOUT_MS) => expect.poll(read, { timeout, interval: 100 });
  /** The REST API with the admin token the page signed in with. */
  const adminApi = (path: string) =>
    hub.api('GET', path, { headers: { Authorization: `Bearer ${env.TELEHUB_ADMIN_TOKEN}` } });
  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const chartOf = (metric: string) => page.locator(`[data-metric="${metric}"] .chart`);
  const pointsOf = async (metric: string) => Number(await chartOf(metric).getAttribute('data-points'));
  const newestOf = async (metric: string) => Number(await chartOf(metric).getAttribute('data-last'));
  const shoot = (name: string, fullPage = false) =>
    page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage, animations: 'disabled' });

  beforeAll(async () => {
    await buildAdminIfNeeded();
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'telehub-dashboard-'));
    screenshotDir = process.env.TELEHUB_SCREENSHOT_DIR
      ? resolve(process.env.TELEHUB_SCREENSHOT_DIR)
      : join(dataDir, 'screenshots');
    await mkdir(screenshotDir, { recursive: true });
    // Fixed ports and admin token: the restarted hub must be reachable where the page and the device expect it.
    env = {
      TELEHUB_HTTP_PORT: String(await findFreePort()),
      TELEHUB_MQTT_PORT: String(await findFreePort()),
      TELEHUB_ADMIN_TOKEN: generateToken('admin').token,
    };
    hub = await startTestHub(env, { database, dataDir });
    // The browser reaches the hub through this, so a test can take its network away.
    proxy = await startTcpProxy(Number(env.TELEHUB_HTTP_PORT));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    consoleWatch = await watchConsole(page);
  });

  // A failure in CI leaves only its log: say where the page was and what it showed.
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      const shown =
        (await page
          .locator('body')
          .textContent({ timeout: 2000 })
          .catch(() => null)) ?? '(unreadable)';
      console.error(`[${task.name}] the page was at ${page.url()} and showed:\n${shown.slice(0, 2000)}`);
      await shoot(`failed-${task.name.replace(/\W+/g, '-')}`).catch(() => undefined);
    });
  });

  afterAll(async () => {
    await simulated?.stop();
    await browser?.close();
    await proxy?.close();
    await hub?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('signs in with the admin token and goes live', async () => {
    await page.goto(`${proxy.url}/`);
    await page.getByLabel('Admin token').fill(env.TELEHUB_ADMIN_TOKEN!);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('live');
    // The fleet summary arrives over the admin channel every second: no devices yet.
    await poll(() => page.getByTestId('fleet-online').textContent()).toMatch(/^0\s*\/\s*0$/);
    // Kept for this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('telehub.adminToken'))).toBe(env.TELEHUB_ADMIN_TOKEN);
  });

  it('creates a device and shows its token once, with snippets to paste', async () => {
    await nav().getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('button', { name: 'New device' }).first().click();
    await page.getByLabel('Name', { exact: true }).fill('greenhouse-7');
    await page.getByLabel(/Labels/).fill('greenhouse floor:2');
    await page.getByRole('button', { name: 'Create device' }).click();

    const id = (await page.getByTestId('device-id').textContent())!.trim();
    const token = (await page.getByTestId('device-token').textContent())!.trim();
    expect(token).toMatch(/^thd_/);
    const created = await adminApi(`/api/v1/devices/${id}`);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'greenhouse-7', labels: ['greenhouse', 'floor:2'] });

    const loop = (await page.getByTestId('snippet-loop').textContent())!;
    // The port is the one the hub listens on (it tells the dashboard), not a default.
    expect(loop).toContain(`mosquitto_pub -h 127.0.0.1 -p ${env.TELEHUB_MQTT_PORT} -q 1 -u '${id}' -P '${token}'`);
    expect(loop).toContain(`-t 'devices/${id}/telemetry'`);
    await page.getByRole('tab', { name: 'MQTT.js' }).click();
    expect(await page.getByTestId('snippet-mqttjs').textContent()).toContain(`password: '${token}'`);
    device = { id, token };
    loopSnippet = loop;
  });

  it.skipIf(!MOSQUITTO_PUB)('the mosquitto_pub loop it shows sends telemetry as the device', async () => {
    // As pasted into a terminal (bash).
    const script = loopSnippet;
    const shell: ChildProcess = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
    try {
      await poll(async () => (await adminApi(`/api/v1/devices/${device!.id}`)).body.latest.temp).toMatchObject({
        value: expect.any(Number),
      });
      const { value } = (await adminApi(`/api/v1/devices/${device!.id}`)).body.latest.temp;
      // The snippet sends $((RANDOM % 10 + 20)).$((RANDOM % 10)): 20.0 to 29.9.
      expect(value).toBeGreaterThanOrEqual(20);
      expect(value).toBeLessThan(30);
    } finally {
      process.kill(-shell.pid!, 'SIGTERM');
    }
  });

  it('draws the telemetry of an MQTT.js device live, history then new points', async () => {
    simulated = await startMqttDevice(hub.mqttUrl, device!, PUBLISH_INTERVAL_MS);
    const backlog = await publishBacklog(simulated, BACKLOG_SPAN_MS, BACKLOG_STEP_MS);
    await page.getByRole('button', { name: 'Open device' }).click();
    await poll(() => page.getByTestId('device-name').textContent()).toBe('greenhouse-7');
    await poll(() => page.getByTestId('device-presence').getAttribute('data-online')).toBe('true');

    // History first: the backlog is in the snapshot (one point per 1 s bucket of the 15 minutes)…
    await poll(() => pointsOf('temp')).toBeGreaterThanOrEqual(backlog);
    await poll(() => pointsOf('hum')).toBeGreaterThanOrEqual(backlog);
    const before = { points: await pointsOf('temp'), newest: await newestOf('temp') };
    // …then live: newly committed points reach the open chart without a reload.
    await poll(() => newestOf('temp')).toBeGreaterThan(before.newest + 1000);
    expect(await pointsOf('temp')).toBeGreaterThan(before.points);
    expect(await page.getByTestId('latest-temp').textContent()).toMatch(/^\d{2}(\.\d+)?$/);
    // Reported state, from the device's state topic.
    await poll(() => page.getByTestId('device-state').textContent()).toContain('2.1.0');
    await shoot('device');
  });

  it("shows the live session's connection: protocol, client id, keep-alive, address, hub process, since when", async () => {
    const panel = page.getByTestId('connection-panel');
    const field = (name: string) => panel.locator(`[data-session-field="${name}"]`);
    await poll(() => panel.getAttribute('data-live')).toBe('true');
    // What the hub recorded (REST), shown as it is; the device is MQTT.js: MQTT 5, its own client id, keep-alive 60.
    const { session } = (await adminApi(`/api/v1/devices/${device!.id}`)).body;
    expect(session).toMatchObject({ live: true, mqttProtocolLevel: 5, transport: 'mqtt', keepAliveSeconds: 60 });
    expect(session.clientId).toBe(simulated!.client.options.clientId);
    expect(await field('protocol').textContent()).toBe('MQTT 5.0');
    expect(await field('transport').textContent()).toBe('TCP mqtt');
    expect(await field('clientId').textContent()).toBe(session.clientId);
    expect(await field('keepAlive').textContent()).toBe('60 s');
    expect(await field('remoteAddress').textContent()).toBe('127.0.0.1');
    expect(await field('node').textContent()).toBe(session.node);
    // Since when: relative ("12 s ago"), then the exact time; both are the session's start.
    const since = field('connectedAt').locator('time');
    expect(await since.count()).toBe(2);
    expect(await since.first().textContent()).toMatch(/ago|just now/);
    expect(await since.nth(1).textContent()).toMatch(/\d{2}:\d{2}:\d{2}/);
    expect(await since.first().getAttribute('datetime')).toBe(session.connectedAt);
    await panel.screenshot({ path: join(screenshotDir, 'device-connection.png'), animations: 'disabled' });
  });

  it('sends a command that the device answers, and shows each step up to succeeded', async () => {
    await page.getByLabel('Command name').fill('set_interval');
    await page.getByLabel('Parameters (JSON)').fill('{"seconds": 5}');
    await page.getByRole('button', { name: 'Send' }).click();

    const command = page.locator('.command').first();
    await poll(() => command.getAttribute('data-status')).toBe('succeeded');
    for (const step of ['queued', 'sent', 'delivered', 'succeeded']) {
      expect(await command.locator(`[data-step="${step}"]`).getAttribute('data-state')).toBe('done');
    }
    expect(await command.locator('.command-result').textContent()).toContain('"applied":"set_interval"');
    expect(simulated!.commands.map((received) => received.name)).toEqual(['set_interval']);
    const stored = await adminApi(`/api/v1/devices/${device!.id}/commands`);
    expect(stored.body.items[0]).toMatchObject({ name: 'set_interval', status: 'succeeded' });
    await shoot('device-command');
  });

  it('reconnects by itself after the hub restarts, and the chart moves again', async () => {
    // A marker that a page reload would wipe.
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));
    consoleWatch.expectNetworkErrors(true);
    await hub.close();
    await poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('reconnecting');
    await page.getByTestId('reconnecting-banner').waitFor();

    hub = await startTestHub(env, { database, dataDir });
    const restartedAt = Date.now();
    await poll(() => page.getByTestId('connection-status').getAttribute('data-state'), 30_000).toBe('live');
    consoleWatch.expectNetworkErrors(false);
    await page.getByTestId('reconnecting-banner').waitFor({ state: 'detached' });

    // The device reconnected too (MQTT.js). The new subscription's snapshot fills the gap; then live points
    // move the same chart on (a newer point than the snapshot's newest, which a snapshot alone cannot give).
    await poll(() => newestOf('temp'), 30_000).toBeGreaterThan(restartedAt);
    const afterSnapshot = await newestOf('temp');
    await poll(() => newestOf('temp')).toBeGreaterThan(afterSnapshot + 1000);
    await poll(() => page.getByTestId('device-presence').getAttribute('data-online')).toBe('true');
    expect(await page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    // The connection panel shows the new session, not the one the restart ended.
    const since = page.locator('[data-testid="connection-panel"] [data-session-field="connectedAt"] time').first();
    await poll(async () => Date.parse((await since.getAttribute('datetime')) ?? '')).toBeGreaterThan(restartedAt);
  }, 90_000);

  it('issues a new device token (shown once) and revokes it', async () => {
    const tokens = page.getByTestId('tokens');
    await poll(() => tokens.locator('li').count()).toBe(1);
    await page.getByRole('button', { name: 'Issue token' }).click();
    const issued = (await page.getByTestId('device-token').textContent())!.trim();
    expect(issued).toMatch(/^thd_/);
    await page.getByRole('button', { name: 'Done' }).click();
    await poll(() => tokens.locator('li').count()).toBe(2);

    // Revoke the new one (the simulated device keeps using the first).
    const row = tokens.locator('li', { hasText: issued.slice(-4) });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await poll(() => row.locator('.badge').textContent()).toBe('revoked');
    const listed = await adminApi(`/api/v1/devices/${device!.id}/tokens`);
    expect(listed.body.filter((token: { active: boolean }) => token.active)).toHaveLength(1);
  });

  it('notices a dropped network by itself, and is live again when it comes back', async () => {
    consoleWatch.expectNetworkErrors(true);
    proxy.drop();
    // No close, no error: only silence. The page's heartbeat must notice.
    await poll(() => page.getByTestId('connection-status').getAttribute('data-state'), DROP_NOTICED_MS).toBe(
      'reconnecting',
    );
    const beforeRestore = await newestOf('temp');
    proxy.restore();
    await poll(() => page.getByTestId('connection-status').getAttribute('data-state'), 30_000).toBe('live');
    consoleWatch.expectNetworkErrors(false);
    await poll(() => newestOf('temp')).toBeGreaterThan(beforeRestore + 1000);
    const afterSnapshot = await newestOf('temp');
    await poll(() => newestOf('temp')).toBeGreaterThan(afterSnapshot + 1000);
  }, 90_000);

  it('shows the fleet on the overview and the device in the list', async () => {
    await nav().getByRole('link', { name: 'Devices' }).click();
    const row = page.locator(`tr[data-device-id="${device!.id}"]`);
    await row.waitFor();
    await poll(() => row.locator('.latest-values').textContent()).toMatch(/hum\s*\d+(\.\d+)?\s*temp\s*\d+(\.\d+)?/);
    await nav().getByRole('link', { name: 'Overview' }).click();
    await poll(() => page.getByTestId('fleet-online').textContent()).toMatch(/^1\s*\/\s*1$/);
    // Events seen live and from the device's log: its connects and the command.
    await poll(() => page.getByTestId('recent-events').textContent()).toContain('Connected');
    await shoot('overview');
    await nav().getByRole('link', { name: 'Devices' }).click();
    await row.waitFor();
    await shoot('devices');
  }, 60_000);

  it('finds devices by name and label, and creates more from a CSV file', async () => {
    await nav().getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('button', { name: 'Import CSV' }).click();
    await page.locator('input[type="file"]').setInputFiles({
      name: 'devices.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('name,labels\npump-1,plant;floor:0\npump-2,plant\n'),
    });
    await page.getByRole('button', { name: 'Create 2 devices' }).click();
    await poll(() => page.getByText('2 devices were created.').count()).toBe(1);
    expect(await page.getByRole('link', { name: /Download tokens/ }).getAttribute('href')).toMatch(/^blob:/);
    await page.getByRole('button', { name: 'Done' }).click();
    const rows = page.locator('tbody tr');
    await poll(() => rows.count()).toBe(3);

    await page.getByLabel('Search devices by name').fill('pump');
    await poll(() => rows.allTextContents()).toEqual([
      expect.stringContaining('pump-1'),
      expect.stringContaining('pump-2'),
    ]);
    await page.getByLabel('Search devices by name').fill('');
    await page.getByLabel('Filter by label').fill('floor:0');
    await page.getByLabel('Filter by label').press('Enter');
    await poll(() => rows.allTextContents()).toEqual([expect.stringContaining('pump-1')]);
    await page.getByRole('button', { name: 'Remove label filter floor:0' }).click();
    await poll(() => rows.count()).toBe(3);
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${proxy.url}/#/devices/${device!.id}`);
    await poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('live');
    await poll(() => pointsOf('temp')).toBeGreaterThan(3);
    // Nothing wider than the screen: no sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shoot('device-phone');
    await page.setViewportSize(DESKTOP);
  });

  it('shows the last session once the device disconnects, live, with when and why it ended', async () => {
    await page.goto(`${proxy.url}/#/devices/${device!.id}`);
    const panel = page.getByTestId('connection-panel');
    await poll(() => panel.getAttribute('data-live')).toBe('true');
    await simulated!.stop();
    simulated = undefined;
    await poll(() => panel.getAttribute('data-live')).toBe('false');
    const ended = panel.locator('[data-session-field="endedAt"]');
    await poll(() => ended.textContent()).toMatch(/(ago|just now).*\d{2}:\d{2}:\d{2}.* · [a-z]/);
    // The details of the session that ended stay.
    expect(await panel.locator('[data-session-field="protocol"]').textContent()).toBe('MQTT 5.0');
    await panel.screenshot({ path: join(screenshotDir, 'device-connection-ended.png'), animations: 'disabled' });
  });

  it('logged no errors in the browser console', () => {
    expect(consoleWatch.errors).toEqual([]);
  });
});
