/**
 * A load-generator process: simulates the devices it is given, on raw sockets, and reports acknowledged
 * publishes, their latency and its own CPU over IPC (load-protocol.ts). Several run side by side so the
 * generator is never the single-threaded bottleneck, and so no process reaches its open-files limit.
 */

import { deviceTopics, OWN_DEVICE_ALIAS } from '@telehub/contracts';
import { workerChannel } from '../lib/child-worker.js';
import { LatencyHistogram } from '../lib/histogram.js';
import type { LoadConnection, LoadConnectionHooks } from './load-connection.js';
import type { ConnectOutcome, LoadCommand, LoadEvent, LoadJob } from './load-protocol.js';
import { MqttLoadConnection, MqttPublishPackets } from './mqtt-load.connection.js';
import { WsLoadConnection, WsTelemetryFrames } from './ws-load.connection.js';

/** Paced mode: the pacer wakes this often and sends what has come due since. */
const PACE_TICK_MS = 1;
/** Paced mode: a publish sent this long after it was due counts as late (the generator fell behind). */
const LATE_AFTER_MS = 5;
/** How often an idle worker reports its ramp-up, and how often it checks which connections are due a keep-alive. */
const PROGRESS_INTERVAL_MS = 500;
const KEEPALIVE_TICK_MS = 1000;
/** A connection quiet for this share of its keep-alive interval sends PINGREQ (MQTT.js waits the whole interval). */
const KEEPALIVE_AFTER_SHARE = 0.5;
/** The hub's topic for a device's own telemetry, by the alias for the authenticated device. */
const TELEMETRY_TOPIC = deviceTopics.telemetry(OWN_DEVICE_ALIAS);

let connections: LoadConnection[] = [];
const latency = new LatencyHistogram();
let measuring = false;
let windowStart = 0;
let windowCpu = process.cpuUsage();
let acked = 0;
let errors = 0;
let lateSends = 0;
let disconnects = 0;
let totalAcked = 0;
let pingResponses = 0;
let pacer: NodeJS.Timeout | undefined;
let keepAliveTimer: NodeJS.Timeout | undefined;

const hooks: LoadConnectionHooks = {
  onAck(latencyMs, ok) {
    totalAcked += 1;
    if (!measuring) return;
    latency.record(latencyMs);
    acked += 1;
    if (!ok) errors += 1;
  },
  onPingResponse() {
    pingResponses += 1;
  },
  onClose() {
    if (measuring) disconnects += 1;
  },
};

const send = workerChannel<LoadCommand, LoadEvent>(async (command) => {
  switch (command.type) {
    case 'job':
      connections = createConnections(command.job);
      // Keep-alive runs from the first connection on: a long ramp must not let the early ones time out, and
      // publishing devices sit idle while the bench measures another server.
      startKeepAlive(command.job.keepAliveSeconds);
      send({ type: 'connected', ...(await connectAll(command.job)) });
      return;
    case 'start':
      start(command.ratePerSec);
      return;
    case 'measure':
      measuring = true;
      latency.reset();
      acked = errors = lateSends = disconnects = 0;
      windowStart = performance.now();
      windowCpu = process.cpuUsage();
      return;
    case 'stop':
      stopSending();
      send({ type: 'report', ...windowReport() });
      measuring = false;
      return;
    case 'drain': {
      const outstanding = await drain(command.timeoutMs);
      // Every publish sent is either answered or still outstanding.
      const open = connections.filter((connection) => connection.isOpen).length;
      send({ type: 'drained', outstanding, totalAcked, totalSent: totalAcked + outstanding, pingResponses, open });
      return;
    }
    case 'close':
      clearInterval(keepAliveTimer);
      for (const connection of connections) connection.close();
      send({ type: 'closed' });
      // Let the DISCONNECTs leave before the process goes.
      setTimeout(() => process.exit(0), 200);
      return;
  }
});

function createConnections(job: LoadJob): LoadConnection[] {
  const mqttPackets =
    job.transport === 'mqtt' && job.mode === 'publish'
      ? new MqttPublishPackets(TELEMETRY_TOPIC, job.payload, job.window)
      : undefined;
  const wsFrames = job.transport === 'ws' ? new WsTelemetryFrames(job.payload, job.window) : undefined;
  return job.devices.map((device, index) => {
    const target = {
      host: job.host,
      port: job.port,
      localAddress: job.localAddresses.length > 0 ? job.localAddresses[index % job.localAddresses.length] : undefined,
      connectTimeoutMs: job.connectTimeoutMs,
    };
    return job.transport === 'mqtt'
      ? new MqttLoadConnection(target, device, job.keepAliveSeconds, mqttPackets, hooks)
      : new WsLoadConnection(target, device, wsFrames!, hooks);
  });
}

/**
 * Connects every device with at most `connectConcurrency` attempts in flight. In idle mode (the connections
 * bench) it gives up after `maxConsecutiveFailures` failures in a row: the server has stopped accepting, and
 * hammering it further would only measure its refusals.
 */
async function connectAll(job: LoadJob): Promise<ConnectOutcome> {
  const outcome: ConnectOutcome = { connected: 0, failed: 0, failures: {}, elapsedMs: 0 };
  const startedAt = performance.now();
  let next = 0;
  let consecutiveFailures = 0;
  const progress =
    job.mode === 'idle'
      ? setInterval(
          () => send({ type: 'progress', ...outcome, elapsedMs: performance.now() - startedAt }),
          PROGRESS_INTERVAL_MS,
        )
      : undefined;
  const gaveUp = () =>
    job.mode === 'idle' &&
    job.maxConsecutiveFailures !== undefined &&
    consecutiveFailures >= job.maxConsecutiveFailures;
  const lane = async () => {
    while (next < connections.length && !gaveUp()) {
      const connection = connections[next++]!;
      try {
        await connection.connect();
        outcome.connected += 1;
        consecutiveFailures = 0;
        outcome.elapsedMs = performance.now() - startedAt;
      } catch (error) {
        outcome.failed += 1;
        consecutiveFailures += 1;
        const reason = (error as Error).message;
        outcome.failures[reason] = (outcome.failures[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, job.connectConcurrency) }, lane));
  clearInterval(progress);
  // Drop the devices that never connected: they hold no socket, and later loops need not skip them.
  connections = connections.filter((connection) => connection.isOpen);
  return outcome;
}

function start(ratePerSec: number | undefined): void {
  if (ratePerSec === undefined) {
    for (const connection of connections) {
      connection.refill = true;
      connection.fillWindow();
    }
    return;
  }
  startPacer(ratePerSec);
}

/**
 * Sends `ratePerSec` publishes per second, spread evenly: each tick sends what has come due since the start,
 * round-robin over the connections that have a free slot. What cannot go out (every window full) stays due
 * and goes out as soon as slots free up; publishes that leave more than LATE_AFTER_MS after their due time
 * are counted, so a reader can tell a steady rate from a generator that fell behind.
 */
function startPacer(ratePerSec: number): void {
  const startedAt = performance.now();
  const intervalMs = 1000 / ratePerSec;
  let issued = 0;
  let cursor = 0;
  pacer = setInterval(() => {
    const now = performance.now();
    const due = Math.floor((now - startedAt) / intervalMs);
    while (issued < due) {
      const connection = nextWithFreeSlot(cursor);
      if (connection === undefined) break;
      cursor = (connection + 1) % connections.length;
      connections[connection]!.publishOne();
      if (now - (startedAt + issued * intervalMs) > LATE_AFTER_MS && measuring) lateSends += 1;
      issued += 1;
    }
  }, PACE_TICK_MS);
}

function nextWithFreeSlot(from: number): number | undefined {
  for (let step = 0; step < connections.length; step++) {
    const index = (from + step) % connections.length;
    if (connections[index]!.hasFreeSlot) return index;
  }
  return undefined;
}

function stopSending(): void {
  clearInterval(pacer);
  pacer = undefined;
  for (const connection of connections) connection.refill = false;
}

function windowReport() {
  const cpu = process.cpuUsage(windowCpu);
  const durationMs = performance.now() - windowStart;
  return {
    acked,
    errors,
    durationMs,
    latency: latency.snapshot(),
    cpuCores: (cpu.user + cpu.system) / 1000 / durationMs,
    lateSends,
    disconnects,
  };
}

async function drain(timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  const outstanding = () => connections.reduce((sum, connection) => sum + connection.outstanding, 0);
  while (outstanding() > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return outstanding();
}

/**
 * Like a real client, a connection sends a keep-alive only when it has written nothing for a while: after
 * KEEPALIVE_AFTER_SHARE of the keep-alive interval, well inside the server's 1.5 × [MQTT-3.1.2-24], whenever
 * its session started on the server's side.
 */
function startKeepAlive(keepAliveSeconds: number): void {
  if (keepAliveSeconds <= 0) return;
  const quietMs = keepAliveSeconds * 1000 * KEEPALIVE_AFTER_SHARE;
  keepAliveTimer = setInterval(() => {
    const now = performance.now();
    for (const connection of connections) {
      if (connection.isOpen && now - connection.lastWriteAt >= quietMs) connection.ping();
    }
  }, KEEPALIVE_TICK_MS);
}
