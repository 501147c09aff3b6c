import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminIfNeeded } from '../../../scripts/build-admin-if-needed.mjs';
import { eventually } from '../../hub/test/support/devices.js';
import { startTestHub, type TestHub } from '../../hub/test/support/test-hub.js';
import { launchChromium, watchConsole } from './support/chromium.js';
import { type SimulatedDevice, startMqttDevice } from './support/mqtt-device.js';

const run = promisify(execFile);

/**
 * The device list of a fleet in real Chromium against the real hub: totals counted by the hub, filters and sort
 * kept in the address, distinct short ids, live status for every kind of device (MQTT.js devices connected,
 * HTTP devices active, a mosquitto_pub loop staying green with its short connections as one event), and editing
 * name, labels, metadata. Screenshots go to a temporary directory, or to TELEHUB_SCREENSHOT_DIR.
 */

const UI_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
/** Devices made by one bulk request (in the same second, so their ids begin alike). */
const FLEET = [
  ...Array.from({ length: 60 }, (_, i) => ({
    name: `greenhouse-${String(i + 1).padStart(2, '0')}`,
    labels: ['greenhouse', i < 30 ? 'site:north' : 'site:south'],
    metadata: { fw: '1.2.0', bed: i + 1 },
  })),
  ...Array.from({ length: 40 }, (_, i) => ({
    name: `pump-${String(i + 1).padStart(2, '0')}`,
    labels: ['pump'],
    metadata: { fw: '0.9.4' },
  })),
  ...Array.from({ length: 30 }, (_, i) => ({ name: `meter-${String(i + 1).padStart(2, '0')}`, labels: ['meter'] })),
];
const CONNECTED = ['greenhouse-01', 'greenhouse-02', 'greenhouse-03'];
const OVER_HTTP = ['pump-01', 'pump-02', 'pump-03', 'pump-04', 'pump-05'];

describe('device list for a fleet (Chromium, real hub)', () => {
  let hub: TestHub;
  let dataDir: string;
  let screenshotDir: string;
  let browser: Browser;
  let page: Page;
  let consoleWatch: Awaited<ReturnType<typeof watchConsole>>;
  const byName = new Map<string, { id: string; token: string }>();
  const simulated: SimulatedDevice[] = [];

  const poll = <T>(read: () => Promise<T>, timeout = UI_TIMEOUT_MS) => expect.poll(read, { timeout, interval: 100 });
  const shoot = (name: string, fullPage = false) =>
    page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage, animations: 'disabled' });
  const rows = () => page.locator('tbody tr');
  const rowOf = (name: string) => page.locator(`tr[data-device-id="${byName.get(name)!.id}"]`);
  const totals = () => page.getByTestId('device-totals').textContent();

  async function sendOverHttp(name: string, body: Record<string, number>): Promise<void> {
    const response = await fetch(`${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${byName.get(name)!.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  /** One run of the README's loop body, as the device: connect, publish at QoS 1, disconnect. */
  async function mosquittoPub(name: string, temp: number): Promise<void> {
    const device = byName.get(name)!;
    await run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', new URL(hub.mqttUrl).port, '-q', '1', '-u', device.id, '-P', device.token],
      ...['-t', 'devices/me/telemetry', '-m', JSON.stringify({ temp })],
    ]);
  }

  beforeAll(async () => {
    await buildAdminIfNeeded();
    hub = await startTestHub({ TELEHUB_ACTIVITY_CHECK_INTERVAL_MS: '200', TELEHUB_LAST_SEEN_INTERVAL_MS: '200' });
    dataDir = await mkdtemp(join(tmpdir(), 'telehub-device-list-'));
    screenshotDir = process.env.TELEHUB_SCREENSHOT_DIR
      ? resolve(process.env.TELEHUB_SCREENSHOT_DIR)
      : join(dataDir, 'screenshots');
    await mkdir(screenshotDir, { recursive: true });
    const created = await hub.api('POST', '/api/v1/devices/bulk', { body: [...FLEET, { name: 'loop-device' }] });
    expect(created.status).toBe(201);
    for (const device of created.body) byName.set(device.name, { id: device.id, token: device.token });

    for (const name of CONNECTED) simulated.push(await startMqttDevice(hub.mqttUrl, byName.get(name)!, 1000));
    for (const [index, name] of OVER_HTTP.entries()) await sendOverHttp(name, { pressure: 1.2 + index / 10 });
    // The hub has recorded them: connected, and active.
    await eventually(async () => {
      const { totals } = (await hub.api('GET', '/api/v1/devices?limit=1')).body;
      return totals.connected === 3 && totals.active === 5;
    }, UI_TIMEOUT_MS);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    consoleWatch = await watchConsole(page);
    await page.goto(`${hub.baseUrl}/`);
    await page.getByLabel('Admin token').fill(hub.adminToken!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
  });

  afterAll(async () => {
    for (const device of simulated) await device.stop();
    await browser?.close();
    await hub?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('counts the whole fleet on the hub, not the rows loaded, with each status', async () => {
    await page.goto(`${hub.baseUrl}/#/devices`);
    await poll(totals).toBe('131 devices · 8 online (3 connected, 5 active)');
    expect(await rows().count()).toBe(50);
    expect(await page.locator('.table-count').textContent()).toBe('50 of 131 shown');
    const tab = (status: string) => page.locator(`.status-filter [data-status="${status}"] .count`).textContent();
    expect([
      await tab('all'),
      await tab('online'),
      await tab('connected'),
      await tab('active'),
      await tab('offline'),
    ]).toEqual(['131', '8', '3', '5', '123']);
    // Sorted by name, with the latest values in the same answer (no request per row).
    expect(await rows().first().locator('.device-name').textContent()).toBe('greenhouse-01');
    await poll(() => rowOf('greenhouse-01').getAttribute('data-status')).toBe('connected');
    await poll(() => rowOf('greenhouse-01').locator('.latest-values').textContent()).toMatch(/hum\s*\d/);
    await page.getByRole('button', { name: 'Load more' }).click();
    await poll(() => rows().count()).toBe(100);
  });

  it('tells devices created in the same second apart by their short id', async () => {
    await page.goto(`${hub.baseUrl}/#/devices?sort=-created`);
    await poll(() => rows().count()).toBe(50);
    const shortIds = await page.getByTestId('short-id').allTextContents();
    expect(new Set(shortIds).size).toBe(shortIds.length);
    // The ids themselves begin alike: their first characters are the creation time.
    const ids = [...byName.values()].map((device) => device.id.slice(0, 8));
    expect(new Set(ids).size).toBeLessThan(3);
  });

  it('filters by status, substring and label, sorts, and keeps it all in the address', async () => {
    await page.goto(`${hub.baseUrl}/#/devices`);
    await page.locator('.status-filter [data-status="online"]').click();
    await poll(() => rows().count()).toBe(8);
    expect(new Set(await rows().evaluateAll((list) => list.map((row) => row.getAttribute('data-status'))))).toEqual(
      new Set(['connected', 'active']),
    );
    await page.getByLabel('Search devices by name or id').fill('-0');
    await poll(() => page.evaluate(() => location.hash)).toBe('#/devices?q=-0&status=online');
    await page.locator('.status-filter [data-status="offline"]').click();
    await page.getByLabel('Search devices by name or id').fill('-04');
    await poll(() => rows().locator('.device-name').allTextContents()).toEqual(['greenhouse-04', 'meter-04']);
    await page.getByLabel('Sort devices').selectOption('-name');
    await poll(() => rows().locator('.device-name').allTextContents()).toEqual(['meter-04', 'greenhouse-04']);
    expect(await page.evaluate(() => location.hash)).toBe('#/devices?q=-04&status=offline&sort=-name');

    // A reload (or a shared link) shows the same list.
    await page.reload();
    await poll(() => rows().locator('.device-name').allTextContents()).toEqual(['meter-04', 'greenhouse-04']);
    expect(await page.getByLabel('Search devices by name or id').inputValue()).toBe('-04');
    expect(await page.getByLabel('Sort devices').inputValue()).toBe('-name');
    expect(await page.locator('.status-filter [aria-selected="true"]').getAttribute('data-status')).toBe('offline');
    await poll(totals).toBe('2 devices match');

    // A piece of an id finds its device.
    const id = byName.get('pump-33')!.id;
    await page.goto(`${hub.baseUrl}/#/devices?q=${id.slice(-8).toUpperCase()}`);
    await poll(() => rows().locator('.device-name').allTextContents()).toEqual(['pump-33']);

    await page.goto(`${hub.baseUrl}/#/devices?label=site:south&sort=-lastSeen`);
    await poll(() => rows().count()).toBe(30);
    await poll(totals).toBe('30 devices match · 0 online');
  });

  it('keeps a device that connects for each message green, with its short connections as one event', async () => {
    await page.goto(`${hub.baseUrl}/#/devices?q=loop-device`);
    await poll(() => rows().count()).toBe(1);
    for (let i = 0; i < 6; i++) {
      await mosquittoPub('loop-device', 20 + i);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Not connected between its messages, and still shown online: active.
    await poll(() => rowOf('loop-device').getAttribute('data-status')).toBe('active');
    expect(await rowOf('loop-device').locator('.status-dot').getAttribute('class')).toContain('status-dot-active');
    await rowOf('loop-device').locator('.device-name').click();
    await poll(() => page.getByTestId('device-presence').getAttribute('data-status')).toBe('active');
    const events = page.getByTestId('device-events');
    await poll(() => events.locator('[data-event-type="short_sessions"]').count()).toBe(1);
    expect(await events.locator('[data-event-type="connected"]').count()).toBeLessThanOrEqual(1);
    expect(await events.locator('[data-event-type="short_sessions"] .event-title').textContent()).toMatch(
      /^[56] short connections$/,
    );
    // More of them, live, join the same entry.
    const before = await events.locator('[data-event-type="short_sessions"] .event-title').textContent();
    for (let i = 0; i < 3; i++) await mosquittoPub('loop-device', 30 + i);
    await poll(() => events.locator('[data-event-type="short_sessions"] .event-title').textContent()).not.toBe(before);
    expect(await events.locator('[data-event-type="short_sessions"]').count()).toBe(1);
    await shoot('device-short-sessions');
  });

  it('edits name, labels, metadata and the inactivity timeout, and shows the metadata', async () => {
    const device = byName.get('greenhouse-07')!;
    await page.goto(`${hub.baseUrl}/#/devices/${device.id}`);
    await poll(() => page.getByTestId('device-name').textContent()).toBe('greenhouse-07');
    const details = page.getByTestId('device-details');
    await poll(() => details.locator('[data-metadata-key="fw"] dd').textContent()).toBe('1.2.0');

    await page.getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('greenhouse-07-east');
    await dialog.getByLabel(/^Labels/).fill('greenhouse site:east');
    await dialog.getByLabel(/^Metadata/).fill('{"fw": "1.3.0", "bed": 7, "owner": "Ana"}');
    await dialog.getByLabel(/^Inactivity timeout/).fill('90');
    await page.getByRole('button', { name: 'Save' }).click();

    await poll(() => page.getByTestId('device-name').textContent()).toBe('greenhouse-07-east');
    await poll(() => details.locator('[data-metadata-key="owner"] dd').textContent()).toBe('Ana');
    expect(await page.getByTestId('inactivity-timeout').textContent()).toBe('1 min 30 s');
    const stored = (await hub.api('GET', `/api/v1/devices/${device.id}`)).body;
    expect(stored).toMatchObject({
      name: 'greenhouse-07-east',
      labels: ['greenhouse', 'site:east'],
      metadata: { fw: '1.3.0', bed: 7, owner: 'Ana' },
      inactivityTimeoutSeconds: 90,
    });

    // A refusal is shown in the dialog, and nothing changes.
    await page.getByRole('button', { name: 'Edit' }).click();
    await dialog.getByLabel(/^Metadata/).fill('[1, 2]');
    await page.getByRole('button', { name: 'Save' }).click();
    await poll(() => dialog.getByRole('alert').textContent()).toMatch(/metadata/i);
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await hub.api('GET', `/api/v1/devices/${device.id}`)).body.metadata.owner).toBe('Ana');
    await shoot('device-details', true);
  });

  it('looks like a product: the list on a desktop and a phone', async () => {
    await page.goto(`${hub.baseUrl}/#/devices?sort=-lastSeen`);
    await poll(() => rowOf('pump-01').getAttribute('data-status')).toBe('active');
    await poll(() => rowOf('greenhouse-01').locator('.latest-values').textContent()).toMatch(/temp/);
    await shoot('devices-fleet');
    await page.setViewportSize(PHONE);
    await page.reload();
    await poll(() => rows().count()).toBe(50);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shoot('devices-fleet-phone');
    await page.setViewportSize(DESKTOP);
  }, 60_000);

  it('logged no errors in the browser console', () => {
    expect(consoleWatch.errors).toEqual([]);
  });
});
