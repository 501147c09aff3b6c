import { createDeviceClient, type DeviceClient, type DeviceCommand } from '@telehub/device-client';
import { type HistogramSnapshot, LatencyHistogram } from './histogram.js';
import type { LaunchedHub } from './hub-launcher.js';
import { untilSlot } from './loaded-phase.js';

/** The command the bench sends: a no-op the device answers at once, so only the hub's path is timed. */
export const BENCH_COMMAND = 'bench_ping';
/** After a phase, how long results still on their way may take before they count as missing. */
const SETTLE_MS = 2_000;
/** Errors kept for the report (distinct messages). */
const KEPT_ERRORS = 5;

export interface CommandPhaseOptions {
  durationMs: number;
  /** Commands per second over all devices; each device sends its next one only after the previous finished. */
  ratePerSec: number;
  /** `?wait=` of the REST request: the longest a command may take before it counts as not finished. */
  waitSeconds: number;
  /**
   * The hub process the REST requests go to; default: the one the devices are connected to. Another process on
   * the same database makes the command cross between them (scale-out bench).
   */
  via?: LaunchedHub;
}

/** One phase's figures: histograms per step (ms), in the bench process's clock. */
export interface CommandPhaseResult {
  sent: number;
  succeeded: number;
  /** Commands whose REST response was not `succeeded` (or failed), or whose result PUBACK never came. */
  failed: number;
  /** Commands sent more than LATE_MS after their turn (the previous one of the device was still running). */
  late: number;
  commandsPerSec: number;
  /** REST POST sent → the device's command handler runs. */
  toDevice: HistogramSnapshot;
  /** The handler runs → the hub's PUBACK of the result (the result is stored). */
  toResultStored: HistogramSnapshot;
  /** REST POST sent → the `?wait=` response arrives (end to end). */
  endToEnd: HistogramSnapshot;
  errors: string[];
}

/** What the bench knows of one command in flight, keyed by its `params.n`. */
interface InFlight {
  postedAt: number;
  receivedAt?: number;
  storedAt?: number;
}

/**
 * K devices on the device client library (MQTT 5, clean sessions), each answering the bench's commands
 * at once, and the REST side that sends them. All times are performance.now() of this process.
 */
export class CommandDevices {
  private readonly inFlight = new Map<number, InFlight>();
  private readonly toDevice = new LatencyHistogram();
  private readonly toResultStored = new LatencyHistogram();
  private nextN = 0;

  private constructor(
    private readonly hub: LaunchedHub,
    private readonly clients: DeviceClient[],
  ) {}

  static async connect(hub: LaunchedHub, count: number): Promise<CommandDevices> {
    const devices = await hub.provision(count, 'bench-commands');
    const clients = devices.map((device) =>
      createDeviceClient('mqtt5', {
        deviceId: device.id,
        token: device.token,
        url: `mqtt://127.0.0.1:${hub.mqttPort}`,
      }),
    );
    const set = new CommandDevices(hub, clients);
    try {
      for (const client of clients) {
        client.on('commandResult', (command) => set.onResultStored(command));
        await client.onCommand((command) => set.onCommand(command));
        await client.connect();
      }
    } catch (error) {
      await set.close();
      throw error;
    }
    return set;
  }

  get size(): number {
    return this.clients.length;
  }

  async runPhase(options: CommandPhaseOptions): Promise<CommandPhaseResult> {
    this.toDevice.reset();
    this.toResultStored.reset();
    this.inFlight.clear();
    const endToEnd = new LatencyHistogram();
    const errors = new Set<string>();
    let sent = 0;
    let succeeded = 0;
    let failed = 0;
    let late = 0;
    const intervalMs = (this.clients.length * 1000) / options.ratePerSec;
    const startMs = performance.now();
    const endMs = startMs + options.durationMs;
    const loops = this.clients.map(async (client, index) => {
      // Devices take turns evenly over the interval, so the commands are spread over time.
      const offsetMs = (index * intervalMs) / this.clients.length;
      for (let turn = 0; ; turn++) {
        const onTime = await untilSlot(startMs, offsetMs, intervalMs, turn);
        if (performance.now() >= endMs) return;
        if (!onTime) late += 1;
        sent += 1;
        const outcome = await this.sendOne(options.via ?? this.hub, client.deviceId, options.waitSeconds);
        if (outcome.ok) {
          succeeded += 1;
          endToEnd.record(outcome.ms);
        } else {
          failed += 1;
          if (errors.size < KEPT_ERRORS) errors.add(outcome.error);
        }
      }
    });
    await Promise.all(loops);
    const elapsedMs = performance.now() - startMs;
    // The result's PUBACK and the REST response race (two sockets): give the stragglers a moment.
    const settleBy = performance.now() + SETTLE_MS;
    while (this.toResultStored.count < succeeded && performance.now() < settleBy) await sleepBriefly();
    const missingResults = succeeded - this.toResultStored.count;
    if (missingResults > 0) errors.add(`${missingResults} result PUBACKs never reached the device client`);
    return {
      sent,
      succeeded,
      failed: failed + Math.max(0, missingResults),
      late,
      commandsPerSec: succeeded / (elapsedMs / 1000),
      toDevice: this.toDevice.snapshot(),
      toResultStored: this.toResultStored.snapshot(),
      endToEnd: endToEnd.snapshot(),
      errors: [...errors],
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((client) => client.close()));
  }

  private async sendOne(
    hub: LaunchedHub,
    deviceId: string,
    waitSeconds: number,
  ): Promise<{ ok: true; ms: number } | { ok: false; error: string }> {
    const n = this.nextN++;
    const postedAt = performance.now();
    this.inFlight.set(n, { postedAt });
    try {
      const response = await fetch(`${hub.baseUrl}/api/v1/devices/${deviceId}/commands?wait=${waitSeconds}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${hub.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: BENCH_COMMAND, params: { n } }),
      });
      const body = (await response.json()) as { status?: string };
      const ms = performance.now() - postedAt;
      if (response.status !== 201) return { ok: false, error: `POST answered ${response.status}` };
      if (body.status !== 'succeeded') return { ok: false, error: `status ${body.status} after ${waitSeconds} s` };
      return { ok: true, ms };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  private onCommand(command: DeviceCommand): { status: 'ok' } {
    const entry = this.entryOf(command);
    if (entry && entry.receivedAt === undefined) {
      entry.receivedAt = performance.now();
      this.toDevice.record(entry.receivedAt - entry.postedAt);
    }
    return { status: 'ok' };
  }

  private onResultStored(command: DeviceCommand): void {
    const entry = this.entryOf(command);
    if (!entry || entry.receivedAt === undefined || entry.storedAt !== undefined) return;
    entry.storedAt = performance.now();
    this.toResultStored.record(entry.storedAt - entry.receivedAt);
  }

  /** Commands of an earlier phase (a redelivery after it ended) are not this phase's. */
  private entryOf(command: DeviceCommand): InFlight | undefined {
    const n = (command.params as { n?: unknown } | undefined)?.n;
    return typeof n === 'number' ? this.inFlight.get(n) : undefined;
  }
}

const sleepBriefly = () => new Promise<void>((resolve) => setTimeout(resolve, 10));
