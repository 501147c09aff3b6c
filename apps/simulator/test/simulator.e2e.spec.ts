import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandReaches, createCommand } from '../../hub/test/support/commands.js';
import { countRows, eventually } from '../../hub/test/support/devices.js';
import { startTestHub, type TestHub } from '../../hub/test/support/test-hub.js';
import { parseDevicesCsv } from '../src/device-roster.js';
import { runSimulator } from '../src/run-simulator.js';
import { parseSimulatorArgs, type SimulatorOptions } from '../src/simulator-options.js';

/** What the simulator prints, kept for the assertions (not a terminal: plain status lines). */
class Output {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('simulator', () => {
  let hub: TestHub;
  let dir: string;

  beforeAll(async () => {
    hub = await startTestHub();
    dir = await mkdtemp(join(tmpdir(), 'telehub-simulator-'));
  });
  afterAll(async () => {
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function options(...argv: string[]): SimulatorOptions {
    const parsed = parseSimulatorArgs(
      ['--hub', hub.baseUrl, '--mqtt-url', hub.mqttUrl, '--connect-rate', '100', '--seed', '1', ...argv],
      { TELEHUB_ADMIN_TOKEN: hub.adminToken },
    );
    if (parsed.help) throw new Error('unexpected --help');
    return parsed.options;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON
  async function devicesLabelled(label: string): Promise<any[]> {
    const response = await hub.api('GET', `/api/v1/devices?label=${label}&limit=100`);
    expect(response.status).toBe(200);
    return response.body.items;
  }

  it('creates devices, sends telemetry the hub commits, writes their CSV, and stops cleanly', async () => {
    const csv = join(dir, 'fleet.csv');
    const output = new Output();
    const summary = await runSimulator(
      options(
        '--devices',
        '3',
        '--label',
        'sim-e2e',
        '--interval',
        '100ms',
        '--batch',
        '2',
        '--duration',
        '2s',
        '--write-csv',
        csv,
      ),
      { output },
    );

    const devices = await devicesLabelled('sim-e2e');
    expect(devices).toHaveLength(3);
    expect(devices.every((device) => device.labels.includes('simulator'))).toBe(true);
    expect(summary).toMatchObject({ devices: 3, errors: 0, disconnects: 0 });
    // About 3 devices × 10 messages a second for 2 s; each message: 2 points of 4 metrics.
    expect(summary.messagesAcked).toBeGreaterThan(20);
    expect(summary.messagesAcked).toBe(summary.messagesSent);
    expect(summary.pointsAcked).toBe(summary.messagesAcked * 8);

    // Every acknowledged point is a committed row, and close() left nothing in flight.
    let rows = 0;
    for (const device of devices) {
      const count = await countRows(hub, device.id);
      expect(count).toBeGreaterThan(0);
      rows += count;
    }
    expect(rows).toBe(summary.pointsAcked);
    const [reading] = await hub.database.client.sql<{ metric: string; value: number }[]>`
      SELECT metric, value FROM telemetry WHERE device_id = ${devices[0].id} AND metric = 'humidity' LIMIT 1`;
    expect(reading!.value).toBeGreaterThanOrEqual(0);
    expect(reading!.value).toBeLessThanOrEqual(100);

    // A clean stop: every device said goodbye (MQTT DISCONNECT), none was dropped.
    const stopped = await eventually(async () => {
      const now = await devicesLabelled('sim-e2e');
      return now.every((device) => device.online === false) ? now : undefined;
    });
    expect(stopped?.map((device) => device.disconnectReason)).toEqual([
      'client_disconnect',
      'client_disconnect',
      'client_disconnect',
    ]);
    const detail = await hub.api('GET', `/api/v1/devices/${devices[0].id}`);
    expect(detail.body.state).toMatchObject({ firmware: 'simulator-1.0.0', batch: 2 });

    const written = parseDevicesCsv(await readFile(csv, 'utf8'), csv);
    expect(written.map((device) => device.id).sort()).toEqual(devices.map((device) => device.id).sort());
    expect((await stat(csv)).mode & 0o777).toBe(0o600);
    expect(output.text).toContain('Created 3 devices labelled sim-e2e');
    expect(output.text).toMatch(/Stopped after .* with 3 devices/);
  });

  it('reuses devices from the hub’s bulk CSV over WebSocket and fails the configured share of commands', async () => {
    const bulk = await hub.api('POST', '/api/v1/devices/bulk', {
      rawBody: 'name,labels\nws-sim-1,sim-ws\nws-sim-2,sim-ws\n',
      headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
    });
    expect(bulk.status).toBe(201);
    const csv = join(dir, 'bulk.csv');
    await writeFile(csv, bulk.text);
    const devices = parseDevicesCsv(bulk.text, 'bulk');

    const stop = new AbortController();
    const output = new Output();
    const running = runSimulator(
      options('--csv', csv, '--transport', 'ws', '--interval', '200ms', '--fail-share', '1', '--command-delay', '50ms'),
      { signal: stop.signal, output },
    );
    await eventually(async () => (await devicesLabelled('sim-ws')).every((device) => device.online), 5000);
    const commands = await Promise.all(devices.map((device) => createCommand(hub, device.id, { name: 'reboot' })));
    for (const [index, command] of commands.entries()) {
      const failed = await commandReaches(hub, devices[index]!.id, command.body.id, 'failed');
      expect(failed.error).toBe('simulated failure of reboot');
      expect(failed.result).toMatchObject({ tookMs: expect.any(Number) });
    }
    stop.abort();
    const summary = await running;
    expect(summary).toMatchObject({
      devices: 2,
      errors: 0,
      commandsReceived: 2,
      commandsFailed: 2,
      commandsSucceeded: 0,
    });
    expect(summary.messagesAcked).toBeGreaterThan(0);
    const stopped = await eventually(async () => {
      const now = await devicesLabelled('sim-ws');
      return now.every((device) => device.online === false) ? now : undefined;
    });
    expect(stopped?.map((device) => [device.transport, device.disconnectReason])).toEqual([
      ['ws', 'client_disconnect'],
      ['ws', 'client_disconnect'],
    ]);
  });

  it('answers commands with success over MQTT 3.1.1 when no failures are asked for', async () => {
    const stop = new AbortController();
    const running = runSimulator(
      options(
        '--devices',
        '1',
        '--label',
        'sim-v4',
        '--transport',
        'mqtt',
        '--fail-share',
        '0',
        '--command-delay',
        '10ms',
      ),
      { signal: stop.signal, output: new Output() },
    );
    const [device] = await eventually(
      async () => (await devicesLabelled('sim-v4')).filter((item) => item.online),
      5000,
    );
    const created = await createCommand(hub, device.id, { name: 'set_interval', params: { seconds: 5 } });
    const done = await commandReaches(hub, device.id, created.body.id, 'succeeded');
    expect(done.result).toMatchObject({ command: 'set_interval' });
    stop.abort();
    expect(await running).toMatchObject({ errors: 0, commandsSucceeded: 1 });
  });

  it('with --hub only, connects to the MQTT port the hub reports (not 1883) and its telemetry arrives', async () => {
    // The test hub's MQTT listener is on an ephemeral port, as a hub started with TELEHUB_MQTT_PORT would be.
    expect(new URL(hub.mqttUrl).port).not.toBe('1883');
    const parsed = parseSimulatorArgs(
      ['--hub', hub.baseUrl, '--devices', '2', '--label', 'sim-port', '--interval', '100ms', '--duration', '1500ms'],
      { TELEHUB_ADMIN_TOKEN: hub.adminToken },
    );
    if (parsed.help) throw new Error('unexpected --help');
    const output = new Output();
    const summary = await runSimulator(parsed.options, { output });

    expect(summary).toMatchObject({ devices: 2, errors: 0 });
    expect(summary.messagesAcked).toBeGreaterThan(0);
    const devices = await devicesLabelled('sim-port');
    expect(devices).toHaveLength(2);
    for (const device of devices) {
      expect(device.transport).toBe('mqtt');
      expect(await countRows(hub, device.id)).toBeGreaterThan(0);
    }
    expect(output.text).toContain(`MQTT address ${hub.mqttUrl}, as the hub reports it`);
  });

  it('says why when it cannot ask the hub for its MQTT port, and connects no device', async () => {
    const bulk = await hub.api('POST', '/api/v1/devices/bulk', {
      rawBody: 'name,labels\nport-sim-1,sim-port-refused\n',
      headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
    });
    expect(bulk.status).toBe(201);
    const csv = join(dir, 'port-refused.csv');
    await writeFile(csv, bulk.text);
    const parsed = parseSimulatorArgs(
      ['--hub', hub.baseUrl, '--csv', csv, '--admin-token', `tha_${'x'.repeat(43)}`],
      {},
    );
    if (parsed.help) throw new Error('unexpected --help');
    await expect(runSimulator(parsed.options, { output: new Output() })).rejects.toThrow(
      /could not ask the hub at http:\/\/127\.0\.0\.1:\d+ for its MQTT port: the admin token was refused/,
    );
    const [device] = await devicesLabelled('sim-port-refused');
    expect(device.connectedAt).toBeNull();
  });

  it('says what is missing when it cannot create devices', async () => {
    const parsed = parseSimulatorArgs(['--hub', hub.baseUrl, '--devices', '1'], { TELEHUB_DATA_DIR: dir });
    if (parsed.help) throw new Error('unexpected --help');
    await expect(runSimulator(parsed.options, { output: new Output() })).rejects.toThrow(
      /creating devices needs an admin token: pass --admin-token or set TELEHUB_ADMIN_TOKEN/,
    );
    const wrong = { ...parsed.options, adminToken: `tha_${'x'.repeat(43)}` };
    await expect(runSimulator(wrong, { output: new Output() })).rejects.toThrow(/answered 401 unauthorized/);
  });
});
