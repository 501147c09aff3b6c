import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { isCloseReason } from './close-reason.js';
import { MqttSession } from './mqtt-session.js';
import type { MqttSessionOptions } from './mqtt-session.types.js';
import { createDuplexPair } from './testing/duplex-pair.js';
import { chunksOf, clientBytes, type FuzzCase, fuzzCase } from './testing/fuzz-input.arbitrary.js';
import { scriptedHooks, type Trace } from './testing/scripted-hooks.js';
import { checkServerOutput, clientMaximumPacketSize, serverPackets } from './testing/server-output.check.js';

/**
 * Property-based fuzzing of MqttSession over an in-memory duplex: valid packet streams, truncated, bit-flipped,
 * with bytes inserted or deleted, or random, split at random points, against hooks that accept, refuse, throw
 * and answer late. Whatever comes in, the session must give a clear refusal or acceptance: nothing thrown out of
 * it, never stuck (it answers a PINGREQ when the input was valid, and it closes, calling onClose exactly once,
 * when the client goes away), and everything it writes is a well-formed MQTT packet.
 *
 * MQTT_FUZZ_RUNS (default 50,000) sets the number of cases; MQTT_FUZZ_SEED replays a failure (the seed is printed).
 */

const RUNS = Number(process.env.MQTT_FUZZ_RUNS ?? 50_000);
const SEED =
  process.env.MQTT_FUZZ_SEED === undefined
    ? Math.floor(Math.random() * 0x7fffffff)
    : Number(process.env.MQTT_FUZZ_SEED);
/** Event-loop turns a session may take to settle after its input; far more than any legitimate path needs. */
const MAX_TURNS = 50;

const OPTIONS: MqttSessionOptions = {
  maxPacketSize: 512,
  connectTimeoutMs: 60_000,
  keepAliveGraceFactor: 1.5,
  maxInflightPublishes: 3,
  closeGraceMs: 60_000,
};

/** How far the cases got: close reasons, and how many were still connected after their input. */
const reached = { connected: 0, pinged: 0, reasons: new Map<string, number>() };

/** Errors that escaped to the process while a case ran. */
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(trace: Trace, done: () => boolean): Promise<void> {
  for (let turns = 0; turns < MAX_TURNS; turns += 1) {
    await turn();
    if (trace.pending === 0 && done()) return;
  }
  throw new Error(`stuck: not settled after ${MAX_TURNS} turns (events: ${trace.events.join(' ')})`);
}

async function runCase(fuzz: FuzzCase): Promise<void> {
  escaped.length = 0;
  const [serverStream, clientStream] = createDuplexPair();
  const trace: Trace = { events: [], closes: [], thrownAtHooks: [], pending: 0 };
  const session = new MqttSession(serverStream, OPTIONS, scriptedHooks(fuzz.hooks, trace));
  const output: Buffer[] = [];
  let clientClosed = false;
  clientStream.on('data', (chunk: Buffer) => output.push(chunk));
  clientStream.on('error', () => undefined);
  clientStream.once('close', () => {
    clientClosed = true;
  });

  const input = clientBytes(fuzz);
  const chunks = chunksOf(input, fuzz.splits);
  for (const [index, chunk] of chunks.entries()) {
    if (!clientStream.writable) break;
    clientStream.write(chunk);
    if (fuzz.yields[index % fuzz.yields.length]) await turn();
  }
  await settle(trace, () => true);
  assert.ok(trace.closes.length <= 1, 'onClose called more than once');

  // Valid input and still connected: the session must still answer (after the acks ahead of it).
  const valid = input.equals(Buffer.concat(fuzz.packets));
  if (session.isConnected) reached.connected += 1;
  if (valid && session.isConnected && clientStream.writable) {
    const version = session.protocolVersion ?? 4;
    const pingresps = () => serverPackets(Buffer.concat(output), version).filter((p) => p.cmd === 'pingresp').length;
    const before = pingresps();
    reached.pinged += 1;
    clientStream.write(Buffer.from([0xc0, 0x00]));
    await settle(trace, () => !session.isConnected || pingresps() > before);
  }

  // The client goes away: the session must close, exactly once, and let go of its stream.
  if (!clientStream.writableEnded) clientStream.end();
  await settle(trace, () => trace.closes.length > 0 && serverStream.destroyed && clientClosed);
  assert.equal(trace.closes.length, 1, 'onClose is called exactly once');
  const reason = trace.closes[0]!.reason;
  assert.ok(isCloseReason(reason), `unknown close reason ${reason}`);
  reached.reasons.set(reason, (reached.reasons.get(reason) ?? 0) + 1);
  assert.equal(session.isConnected, false);
  assert.deepEqual(trace.thrownAtHooks, [], 'the session threw at a hook that called it');

  // Nothing handled before the client was accepted [MQTT-3.1.4-5], nothing after close.
  const accepted = trace.events.indexOf('auth:ok');
  const firstServed = trace.events.findIndex((event) => event === 'publish' || event === 'subscribe');
  if (firstServed >= 0) assert.ok(accepted >= 0 && firstServed > accepted, `served before CONNACK: ${trace.events}`);
  assert.ok(trace.events.filter((event) => event === 'authenticate').length <= 1, 'authenticated twice');
  assert.equal(trace.events.at(-1), 'close', `a hook was called after onClose: ${trace.events}`);

  const limit = session.protocolVersion === 5 ? clientMaximumPacketSize(input) : undefined;
  checkServerOutput(Buffer.concat(output), session.protocolVersion ?? 4, trace.closes[0]!.reason, limit);
}

describe('MqttSession under fuzzed input', () => {
  beforeAll(() => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
  });
  afterAll(() => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });

  it(`settles every session with a clear answer (${RUNS} cases, seed ${SEED})`, { timeout: 300_000 }, async () => {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    try {
      await fc.assert(
        fc.asyncProperty(fuzzCase, async (fuzz) => {
          await runCase(fuzz);
          assert.deepEqual(escaped, [], 'an error escaped to the process');
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: false },
      );
    } catch (error) {
      console.error(`MqttSession fuzz failed; replay with MQTT_FUZZ_SEED=${SEED}`);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const reasons = [...reached.reasons].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`);
    console.info(
      `MqttSession fuzz: ${RUNS} cases in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU, seed ${SEED}); ` +
        `${reached.connected} still connected after their input, ${reached.pinged} pinged; ` +
        `closed by ${reasons.join(', ')}`,
    );
  });
});
