import { generateToken } from '../../apps/hub/src/auth/token-codec.js';
import { AdminLiveClient } from '../lib/admin-live-client.js';
import type { BenchContext } from '../lib/benchmark.js';
import { CommandDevices, type CommandPhaseResult } from '../lib/command-devices.js';
import { formatInt, formatMs } from '../lib/format.js';
import { type LaunchedHub, launchHub } from '../lib/hub-launcher.js';
import { LiveProbes, PROBE_METRIC, type ProbePhaseResult } from '../lib/live-probes.js';
import { merged, stepCells, times } from '../lib/loaded-phase.js';
import type { Table } from '../lib/table.js';
import type { ScalePart } from './scale-part.js';

/**
 * Two hub processes on one database (hub A, hub B: separate `launchHub`s, as two machines would run them), idle.
 * The devices connect to B. Commands are created by REST on B (same node) and on A (cross-node: the command
 * crosses through PostgreSQL), alternating phases; probe points published to B are watched live by one admin
 * WebSocket on B and one on A at the same time.
 */
const SETTINGS = {
  full: {
    rounds: 3,
    phaseMs: 5_000,
    commandDevices: 10,
    commandsPerSec: 20,
    waitSeconds: 10,
    probes: 10,
    probesPerSec: 100,
  },
  quick: {
    rounds: 1,
    phaseMs: 2_000,
    commandDevices: 3,
    commandsPerSec: 10,
    waitSeconds: 10,
    probes: 4,
    probesPerSec: 40,
  },
};
/** The highest admin rate, as the admin-live bench uses, so coalescing does not hide the path. */
const ADMIN_RATE = 1_000;
const HUB_ENV: Record<string, string> = { TELEHUB_LOG_LEVEL: 'info', TELEHUB_ADMIN_WS_MAX_RATE: String(ADMIN_RATE) };
const SAME = 'same node (B → B)';
const CROSS = 'cross-node (A → B)';
const VIEWS = [SAME, CROSS];

type Settings = (typeof SETTINGS)['full'];

export async function crossNode(context: BenchContext): Promise<ScalePart> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const database = await context.postgres.freshDatabase('scale_cross');
  // Hubs on one database share their admin token: each registers its own as the one environment token.
  const adminToken = generateToken('admin').token;
  const hubs: LaunchedHub[] = [];
  try {
    for (const name of ['a', 'b']) {
      hubs.push(
        await launchHub({
          databaseUrl: database.url,
          adminToken,
          env: { ...HUB_ENV, TELEHUB_NODE_ID: `bench-${name}` },
          nodeOptions: context.hubNodeOptions,
        }),
      );
    }
    const [hubA, hubB] = hubs as [LaunchedHub, LaunchedHub];
    const commands = await commandLatency(context, settings, hubA, hubB);
    const live = await liveLatency(context, settings, hubA, hubB);
    return {
      settings: { crossNode: { ...settings, hubEnv: HUB_ENV, adminMaxRate: ADMIN_RATE } },
      figures: { crossNode: { commands: commands.figures, live: live.figures } },
      tables: [commands.table, ...(live.table ? [live.table] : [])],
      notes: [...commands.notes, ...live.notes, ...hubProblems(hubs)],
    };
  } finally {
    for (const hub of hubs) await hub.stop();
    await database.drop();
  }
}

async function commandLatency(context: BenchContext, settings: Settings, hubA: LaunchedHub, hubB: LaunchedHub) {
  const devices = await CommandDevices.connect(hubB, settings.commandDevices);
  const phases: Record<string, CommandPhaseResult[]> = { [SAME]: [], [CROSS]: [] };
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [view, via] of [
        [SAME, hubB],
        [CROSS, hubA],
      ] as const) {
        const phase = await devices.runPhase({
          durationMs: settings.phaseMs,
          ratePerSec: settings.commandsPerSec,
          waitSeconds: settings.waitSeconds,
          via,
        });
        phases[view]!.push(phase);
        const delivery = merged([phase.toDevice]).summary();
        context.log(
          `commands round ${round + 1}/${settings.rounds}, ${view}: ${phase.succeeded} succeeded, ` +
            `delivery p50 ${formatMs(delivery.p50Ms)} ms, p99 ${formatMs(delivery.p99Ms)} ms`,
        );
      }
    }
  } finally {
    await devices.close();
  }
  const step = (view: string, pick: (phase: CommandPhaseResult) => CommandPhaseResult['toDevice']) =>
    merged(phases[view]!.map(pick));
  const rows: string[][] = [];
  for (const [label, pick] of [
    ['REST POST sent → device receives', (phase: CommandPhaseResult) => phase.toDevice],
    ['REST POST sent → ?wait= response (succeeded)', (phase: CommandPhaseResult) => phase.endToEnd],
  ] as const) {
    const same = step(SAME, pick);
    const cross = step(CROSS, pick);
    rows.push([`${label}, ${SAME}`, ...stepCells(same), '', '']);
    rows.push([
      `${label}, ${CROSS}`,
      ...stepCells(cross),
      times(cross.summary().p50Ms, same.summary().p50Ms),
      times(cross.summary().p99Ms, same.summary().p99Ms),
    ]);
  }
  const notes: string[] = [];
  for (const view of VIEWS) {
    const failed = phases[view]!.reduce((sum, phase) => sum + phase.failed, 0);
    const errors = [...new Set(phases[view]!.flatMap((phase) => phase.errors))];
    if (failed > 0) notes.push(`commands, ${view}: ${failed} did not succeed: ${errors.join('; ')}`);
  }
  const table: Table = {
    title:
      `Scale-out, commands across hub processes: ${settings.commandDevices} MQTT 5 devices on hub B, ` +
      `${settings.commandsPerSec} commands/s, created on B or on A, idle hubs, ${settings.rounds} round(s) of ${settings.phaseMs / 1000} s each`,
    columns: ['Step', 'commands', 'p50 ms', 'p99 ms', 'max ms', 'p50 cross ÷ same', 'p99 cross ÷ same'],
    rows,
    notes: [
      'Two hub processes (separate launches, one database); the devices are connected to B. Same node: POST …/commands?wait= to B; cross-node: to A, which stores the command and B delivers it (NOTIFY).',
      'Phases alternate (same, cross, same, …); times in the bench process. The ?wait= answer on A needs the result recorded by B.',
    ],
  };
  return {
    figures: Object.fromEntries(
      VIEWS.map((view) => [
        view,
        {
          toDevice: step(view, (phase) => phase.toDevice).summary(),
          endToEnd: step(view, (phase) => phase.endToEnd).summary(),
          phases: phases[view],
        },
      ]),
    ),
    table,
    notes,
  };
}

async function liveLatency(context: BenchContext, settings: Settings, hubA: LaunchedHub, hubB: LaunchedHub) {
  const probes = await LiveProbes.connect(hubB, settings.probes);
  const admins: AdminLiveClient[] = [];
  const notes: string[] = [];
  const phases: ProbePhaseResult[] = [];
  try {
    for (const [view, hub] of [
      [SAME, hubB],
      [CROSS, hubA],
    ] as const) {
      try {
        admins.push(
          await AdminLiveClient.open({
            baseUrl: hub.baseUrl,
            adminToken: hub.adminToken,
            devices: probes.deviceIds,
            metrics: [PROBE_METRIC],
            maxRate: ADMIN_RATE,
            onPoints: probes.watcher(view),
          }),
        );
      } catch (error) {
        // The subscription itself may not work across processes: report it, do not wait for points.
        notes.push(`admin live, ${view}: the subscription failed: ${(error as Error).message}`);
        return { figures: { failed: (error as Error).message }, table: undefined, notes };
      }
    }
    for (let round = 0; round < settings.rounds; round++) {
      // Bounded: a view that gets nothing is counted as missing after the probes' settle time.
      const phase = await probes.runPhase(settings.phaseMs, settings.probesPerSec, VIEWS);
      phases.push(phase);
      context.log(
        `admin live round ${round + 1}/${settings.rounds}: ${phase.published} points, ` +
          VIEWS.map((view) => `${view} ${phase.views[view]!.received} received`).join(', '),
      );
    }
  } finally {
    for (const admin of admins) {
      await admin.close();
      if (admin.dropped > 0) notes.push(`admin live: a client was sent "lagged": ${admin.dropped} points left out`);
      for (const problem of admin.problems) notes.push(`admin live client: ${problem}`);
    }
    await probes.close();
  }
  const sum = (view: string, pick: (view: ProbePhaseResult['views'][string]) => number) =>
    phases.reduce((total, phase) => total + pick(phase.views[view]!), 0);
  const acknowledged = phases.reduce((total, phase) => total + phase.published - phase.failed, 0);
  if (sum(CROSS, (view) => view.received) === 0) {
    notes.push(
      `admin live, ${CROSS}: NO LIVE POINTS CROSSED: an admin on hub A got none of the ${formatInt(acknowledged)} ` +
        'points its devices published to hub B (the admin live view is per process on this build)',
    );
  }
  for (const view of VIEWS) {
    const missing = sum(view, (state) => state.missing);
    const wrongTime = sum(view, (state) => state.wrongTime);
    if (missing > 0 && sum(view, (state) => state.received) > 0)
      notes.push(`admin live, ${view}: ${missing} acknowledged points never arrived`);
    if (wrongTime > 0)
      notes.push(`admin live, ${view}: ${wrongTime} points came back with another time than their "ts"`);
  }
  const failed = phases.reduce((total, phase) => total + phase.failed, 0);
  if (failed > 0) notes.push(`admin live: ${failed} probe publishes failed`);
  const puback = merged(phases.map((phase) => phase.puback));
  const viewHistogram = (view: string) => merged(phases.map((phase) => phase.views[view]!.latency));
  const same = viewHistogram(SAME).summary();
  const cross = viewHistogram(CROSS);
  const table: Table = {
    title:
      `Scale-out, admin live path across hub processes: ${settings.probes} devices on hub B × ` +
      `${settings.probesPerSec / settings.probes} points/s, admin WebSockets on B and on A (maxRate ${ADMIN_RATE}), idle hubs, ` +
      `${settings.rounds} round(s) of ${settings.phaseMs / 1000} s`,
    columns: ['Path', 'points', 'p50 ms', 'p99 ms', 'max ms', 'received', 'p50 cross ÷ same', 'p99 cross ÷ same'],
    rows: [
      ['device publish → PUBACK on B (committed)', ...stepCells(puback), formatInt(acknowledged), '', ''],
      [`device publish → admin WebSocket, ${SAME}`, ...stepCells(viewHistogram(SAME)), received(SAME), '', ''],
      [
        `device publish → admin WebSocket, ${CROSS}`,
        ...stepCells(cross),
        received(CROSS),
        times(cross.summary().p50Ms, same.p50Ms),
        times(cross.summary().p99Ms, same.p99Ms),
      ],
    ],
    notes: [
      'Both admin clients watch the same points at once; a point is timed from its sendTelemetry call to the "points" message holding it.',
      'received: points that arrived, of those acknowledged; a cross-node view with none means the live path does not cross processes.',
    ],
  };
  function received(view: string): string {
    return `${formatInt(sum(view, (state) => state.received))} of ${formatInt(acknowledged)}`;
  }
  return {
    figures: {
      puback: puback.summary(),
      live: Object.fromEntries(VIEWS.map((view) => [view, viewHistogram(view).summary()])),
      phases,
    },
    table,
    notes,
  };
}

function hubProblems(hubs: LaunchedHub[]): string[] {
  return hubs.flatMap((hub, index) => {
    const distinct = [...new Set(hub.warnings)];
    return distinct.length === 0
      ? []
      : [`hub ${'AB'[index]} logged ${hub.warnings.length} warnings: ${distinct.slice(0, 3).join('; ')}`];
  });
}
