import type { AdminPointsMessage } from '@telehub/contracts';
import { createDeviceClient, type DeviceClient } from '@telehub/device-client';
import { type HistogramSnapshot, LatencyHistogram } from './histogram.js';
import type { LaunchedHub } from './hub-launcher.js';
import { untilSlot } from './loaded-phase.js';

/** The probes' one metric: its value is the publish's sequence number, so each point names its publish. */
export const PROBE_METRIC = 'v';
/** After a phase, how long points still on their way (at the slowest rate, one interval) may take. */
const SETTLE_MS = 1_500;

/** What the bench remembers of one probe publish. */
interface Sent {
  /** performance.now() when sendTelemetry was called. */
  at: number;
  /** The `ts` it carried (epoch ms): the point's time, which the admin channel must give back. */
  ts: number;
}

/** Latency of the live path as one admin client saw it. */
export interface LiveView {
  /** Publish → the `points` message carrying it arrives. */
  latency: HistogramSnapshot;
  received: number;
  /** Acknowledged points this client never got (within SETTLE_MS after the phase). */
  missing: number;
  /** Points whose time was not the `ts` they were sent with. */
  wrongTime: number;
}

export interface ProbePhaseResult {
  published: number;
  failed: number;
  late: number;
  /** Publish → PUBACK: the point is committed (the baseline). */
  puback: HistogramSnapshot;
  views: Record<string, LiveView>;
  errors: string[];
}

/**
 * Devices on the device client library (MQTT 3.1.1, as the load generator) publishing `{"v": n, "ts": now}`
 * at a steady rate, and the admin clients that watch them: a point's latency is its arrival at an admin
 * client minus its publish, both in this process's clock (the point's time is that publish's wall clock).
 */
export class LiveProbes {
  private readonly sent = new Map<string, Sent>();
  private views = new Map<string, { histogram: LatencyHistogram; seen: Set<string>; wrongTime: number }>();
  private nextValue = 0;

  private constructor(private readonly clients: DeviceClient[]) {}

  static async connect(hub: LaunchedHub, count: number): Promise<LiveProbes> {
    const devices = await hub.provision(count, 'bench-live-probe');
    const clients = devices.map((device) =>
      createDeviceClient('mqtt', { deviceId: device.id, token: device.token, url: `mqtt://127.0.0.1:${hub.mqttPort}` }),
    );
    const probes = new LiveProbes(clients);
    try {
      for (const client of clients) await client.connect();
    } catch (error) {
      await probes.close();
      throw error;
    }
    return probes;
  }

  get deviceIds(): string[] {
    return this.clients.map((client) => client.deviceId);
  }

  /** The handler for an admin client's points, recorded under `view`. */
  watcher(view: string): (message: AdminPointsMessage, receivedAt: number) => void {
    return (message, receivedAt) => {
      const state = this.views.get(view);
      if (!state) return;
      for (const series of message.series) {
        if (series.metric !== PROBE_METRIC) continue;
        series.values.forEach((value, index) => {
          const key = `${series.deviceId}|${value}`;
          const sent = this.sent.get(key);
          if (!sent || state.seen.has(key)) return;
          state.seen.add(key);
          state.histogram.record(receivedAt - sent.at);
          if (series.times[index] !== sent.ts) state.wrongTime += 1;
        });
      }
    };
  }

  /** Every probe publishes `ratePerSec / devices` times per second, each after the previous PUBACK. */
  async runPhase(durationMs: number, ratePerSec: number, views: string[]): Promise<ProbePhaseResult> {
    this.sent.clear();
    this.views = new Map(
      views.map((view) => [view, { histogram: new LatencyHistogram(), seen: new Set(), wrongTime: 0 }]),
    );
    const puback = new LatencyHistogram();
    const errors = new Set<string>();
    let failed = 0;
    let late = 0;
    const intervalMs = (this.clients.length * 1000) / ratePerSec;
    const startMs = performance.now();
    const endMs = startMs + durationMs;
    await Promise.all(
      this.clients.map(async (client, index) => {
        const offsetMs = (index * intervalMs) / this.clients.length;
        for (let turn = 0; ; turn++) {
          const onTime = await untilSlot(startMs, offsetMs, intervalMs, turn);
          if (performance.now() >= endMs) return;
          if (!onTime) late += 1;
          const value = this.nextValue++;
          const ts = Date.now();
          const at = performance.now();
          const key = `${client.deviceId}|${value}`;
          this.sent.set(key, { at, ts });
          try {
            await client.sendTelemetry({ [PROBE_METRIC]: value, ts });
            puback.record(performance.now() - at);
          } catch (error) {
            this.sent.delete(key);
            failed += 1;
            errors.add((error as Error).message);
          }
        }
      }),
    );
    const acknowledged = puback.count;
    const settleBy = performance.now() + SETTLE_MS;
    const allSeen = () => [...this.views.values()].every((state) => state.seen.size >= acknowledged);
    while (!allSeen() && performance.now() < settleBy) await new Promise((resolve) => setTimeout(resolve, 20));
    const result: ProbePhaseResult = {
      published: acknowledged + failed,
      failed,
      late,
      puback: puback.snapshot(),
      views: Object.fromEntries(
        [...this.views].map(([view, state]) => [
          view,
          {
            latency: state.histogram.snapshot(),
            received: state.seen.size,
            missing: Math.max(0, acknowledged - state.seen.size),
            wrongTime: state.wrongTime,
          },
        ]),
      ),
      errors: [...errors],
    };
    // Points arriving after this are no phase's.
    this.views = new Map();
    return result;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((client) => client.close()));
  }
}
