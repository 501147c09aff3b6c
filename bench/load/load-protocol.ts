/**
 * What the bench parent and its load-generator processes (load.worker.ts) say to each other over IPC.
 *
 * A worker's life: `job` (connect every device it was given) → `connected` → `start` (publish, optionally
 * paced) → `measure` (zero the counters: the warm-up is over) → `stop` (send nothing new) → `report` (the
 * measured window) → `drain` → `drained` (every publish answered, or the timeout) → `close`.
 * An idle job (connections bench) only connects, keeps alive, and reports `progress` while it ramps up.
 */
import type { HistogramSnapshot } from '../lib/histogram.js';

export type LoadTransport = 'mqtt' | 'ws';

export interface LoadDevice {
  /** The device id (hub) or any unique client id (aedes). */
  id: string;
  /** The device token (hub); aedes accepts any. */
  token: string;
}

export interface LoadJob {
  transport: LoadTransport;
  host: string;
  /** MQTT port, or the HTTP port for the JSON WebSocket transport. */
  port: number;
  /** Source addresses to bind, round-robin (127.0.0.2, …): each has its own range of ephemeral ports. */
  localAddresses: string[];
  devices: LoadDevice[];
  mode: 'publish' | 'idle';
  /** The telemetry message every publish carries (JSON). */
  payload: string;
  /** Unacknowledged publishes each connection keeps in flight. */
  window: number;
  /** MQTT keep-alive in seconds; the worker sends PINGREQ at this interval on idle connections. */
  keepAliveSeconds: number;
  /** Connection attempts in progress at once, per worker. */
  connectConcurrency: number;
  /** A connection attempt that gets no CONNACK (or WebSocket open) in this time counts as failed. */
  connectTimeoutMs: number;
  /** Idle mode: stop trying after this many failed attempts in a row (the server stopped accepting). */
  maxConsecutiveFailures?: number;
}

export type LoadCommand =
  | { type: 'job'; job: LoadJob }
  /** Begin publishing. Without a rate, every connection keeps its window full (as fast as acks allow). */
  | { type: 'start'; ratePerSec?: number }
  | { type: 'measure' }
  | { type: 'stop' }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'close' };

export interface ConnectOutcome {
  connected: number;
  failed: number;
  /** Failure reasons (error codes, CONNACK codes, 'timeout') with their counts. */
  failures: Record<string, number>;
  /** From the first attempt to the last successful CONNACK. */
  elapsedMs: number;
}

export interface WindowReport {
  /** Publishes acknowledged within the measured window. */
  acked: number;
  /** Publishes answered with an error (MQTT 5 reason code ≥ 0x80, WebSocket error frame). */
  errors: number;
  durationMs: number;
  latency: HistogramSnapshot;
  /** CPU of this worker process during the window, in cores (1.0 = one core busy). */
  cpuCores: number;
  /** Paced mode: publishes due that found their connection's window full and had to wait. */
  lateSends: number;
  /** Connections that closed during the window. */
  disconnects: number;
}

export type LoadEvent =
  | ({ type: 'connected' } & ConnectOutcome)
  | ({ type: 'progress' } & ConnectOutcome)
  | ({ type: 'report' } & WindowReport)
  | {
      type: 'drained';
      /** Publishes still unanswered when draining gave up. */
      outstanding: number;
      /** Acknowledged over the worker's whole life (warm-up included): the floor for rows in the database. */
      totalAcked: number;
      totalSent: number;
      /** PINGRESPs (WebSocket pongs) received, showing keep-alive ran. */
      pingResponses: number;
      /** Connections still open now. */
      open: number;
    }
  | { type: 'closed' }
  | { type: 'error'; message: string };
