import { HUB_ENV_FULL_LOAD } from './ingest.bench.js';
import { AdminLiveClient } from './lib/admin-live-client.js';
import { type BenchContext, type Benchmark, type BenchReport, effectiveHubSettings } from './lib/benchmark.js';
import { formatCpu, formatInt, formatMs } from './lib/format.js';
import { LiveProbes, PROBE_METRIC, type ProbePhaseResult } from './lib/live-probes.js';
import { halfLoadRate, LOAD_SHARE, measureWhile, merged, stepCells, times } from './lib/loaded-phase.js';
import { closeAll, type SubjectSummary, subjectNotes, summarize } from './lib/rounds.js';
import { type LoadSubject, openLoadSubject, type WindowResult } from './lib/subjects.js';
import type { Table } from './lib/table.js';

/** Background load as in the latency bench; `probes` more devices publish the timed points. */
const SETTINGS = {
  full: {
    devices: 100,
    window: 32,
    processes: 2,
    rounds: 3,
    warmupMs: 2_000,
    measureMs: 8_000,
    probeMs: 5_000,
    probes: 10,
    probesPerSec: 200,
  },
  quick: {
    devices: 20,
    window: 16,
    processes: 2,
    rounds: 1,
    warmupMs: 1_000,
    measureMs: 2_000,
    probeMs: 2_000,
    probes: 4,
    probesPerSec: 40,
  },
};
/**
 * The admin channel sends a subscription at most maxRate messages per second (default 10, at most
 * TELEHUB_ADMIN_WS_MAX_RATE, 50 by default): raised to the highest allowed so that coalescing does not hide
 * the rest of the path. The default rate is measured beside it.
 */
const FAST_RATE = 1_000;
const HUB_ENV: Record<string, string> = { ...HUB_ENV_FULL_LOAD, TELEHUB_ADMIN_WS_MAX_RATE: String(FAST_RATE) };
const HUB = 'telehub, MQTT QoS 1 (ack after commit)';
const FAST = `admin WebSocket, maxRate ${FAST_RATE}/s`;
const DEFAULT = 'admin WebSocket, default rate (10/s)';
const VIEWS = [FAST, DEFAULT];

export const adminLiveBench: Benchmark = {
  name: 'admin-live',
  title: 'Admin live path under ingest at half load',
  run,
};

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const notes: string[] = [];
  const phases: ProbePhaseResult[] = [];
  const windows: WindowResult[] = [];
  const admins: AdminLiveClient[] = [];
  let subject: LoadSubject | undefined;
  let probes: LiveProbes | undefined;
  let rates: { maxRatePerSec: number; ratePerSec: number };
  try {
    subject = await openLoadSubject(context, {
      label: HUB,
      server: 'hub',
      transport: 'mqtt',
      devices: settings.devices,
      window: settings.window,
      processes: settings.processes,
      hubEnv: HUB_ENV,
    });
    const hub = subject.hub!;
    const liveProbes = await LiveProbes.connect(hub, settings.probes);
    probes = liveProbes;
    for (const [view, maxRate] of [
      [FAST, FAST_RATE],
      [DEFAULT, undefined],
    ] as const) {
      admins.push(
        await AdminLiveClient.open({
          baseUrl: hub.baseUrl,
          adminToken: hub.adminToken,
          devices: liveProbes.deviceIds,
          metrics: [PROBE_METRIC],
          maxRate,
          onPoints: liveProbes.watcher(view),
        }),
      );
    }
    context.log(`${settings.probes} probe devices and ${admins.length} admin WebSocket clients connected`);
    rates = await halfLoadRate(context, subject, settings, notes);
    for (let round = 0; round < settings.rounds; round++) {
      const { window, driven } = await measureWhile(
        subject,
        { warmupMs: settings.warmupMs, measureMs: settings.measureMs, ratePerSec: rates.ratePerSec },
        (durationMs) => liveProbes.runPhase(durationMs, settings.probesPerSec, VIEWS),
      );
      phases.push(driven);
      windows.push(window);
      const fast = merged([driven.views[FAST]!.latency]).summary();
      context.log(
        `round ${round + 1}/${settings.rounds} under ${formatInt(window.ackedPerSec ?? Number.NaN)} msg/s: ` +
          `${driven.published} points, live p50 ${formatMs(fast.p50Ms)} ms, p99 ${formatMs(fast.p99Ms)} ms`,
      );
    }
  } catch (error) {
    await Promise.allSettled(admins.map((admin) => admin.close()));
    await probes?.close();
    if (subject) await closeAll([subject]);
    throw error;
  }
  for (const admin of admins) {
    await admin.close();
    if (admin.dropped > 0) notes.push(`an admin client was sent "lagged": ${admin.dropped} points left out`);
    for (const problem of admin.problems) notes.push(`admin client: ${problem}`);
  }
  await probes.close();
  const finals = await closeAll([subject]);
  const load = summarize(subject, windows, finals.get(HUB)!);
  notes.push(...probeNotes(phases), ...subjectNotes([load]));

  const puback = merged(phases.map((phase) => phase.puback));
  const view = (name: string) => merged(phases.map((phase) => phase.views[name]!.latency));
  const figures = {
    puback: puback.summary(),
    live: Object.fromEntries(VIEWS.map((name) => [name, view(name).summary()])),
    phases,
    load,
  };
  const fast = figures.live[FAST]!;
  return {
    settings: {
      ...settings,
      payload: `{"${PROBE_METRIC}": <sequence>, "ts": <send time, epoch ms>}`,
      subscriptions: { [FAST]: { maxRate: FAST_RATE }, [DEFAULT]: { maxRate: 'hub default' }, events: false },
      maxRatePerSec: rates.maxRatePerSec,
      loadShare: LOAD_SHARE,
      ratePerSec: rates.ratePerSec,
      hub: { ...effectiveHubSettings(HUB_ENV), adminWsMaxRate: FAST_RATE },
    },
    figures,
    tables: [liveTable(settings, rates, puback, view), loadTable(load)],
    targets: [
      {
        target: 'live path (publish → admin WebSocket, maxRate 1000) p99, beside the PUBACK p99 (no target set)',
        measured: `${formatMs(fast.p99Ms)} ms vs ${formatMs(puback.summary().p99Ms)} ms`,
        met: undefined,
      },
    ],
    notes,
  };
}

function liveTable(
  settings: (typeof SETTINGS)['full'],
  rates: { maxRatePerSec: number; ratePerSec: number },
  puback: ReturnType<typeof merged>,
  view: (name: string) => ReturnType<typeof merged>,
): Table {
  const base = puback.summary();
  const row = (label: string, histogram: ReturnType<typeof merged>) => {
    const summary = histogram.summary();
    return [label, ...stepCells(histogram), times(summary.p50Ms, base.p50Ms), times(summary.p99Ms, base.p99Ms)];
  };
  return {
    title:
      `Admin live path: ${settings.probes} devices × ${settings.probesPerSec / settings.probes} points/s under ingest at ` +
      `${formatInt(rates.ratePerSec)} msg/s (${LOAD_SHARE * 100} % of ${formatInt(rates.maxRatePerSec)}), ${settings.rounds} rounds of ${settings.measureMs / 1000} s`,
    columns: ['Path', 'points', 'p50 ms', 'p99 ms', 'max ms', 'p50 ÷ PUBACK', 'p99 ÷ PUBACK'],
    rows: [
      ['device publish → PUBACK (committed): baseline', ...stepCells(puback), '1.0×', '1.0×'],
      row(`device publish → ${FAST}`, view(FAST)),
      row(`device publish → ${DEFAULT}`, view(DEFAULT)),
    ],
    notes: [
      'Both clocks are the bench process\'s: a point is timed from its sendTelemetry call to the arrival of the "points" message holding it.',
      'The point\'s time is its send time (payload "ts"); the hub must give it back unchanged (checked).',
      'At the default rate a subscription gets at most one message per 100 ms: latency there is bounded below by that interval, not by ingest.',
    ],
  };
}

function loadTable(load: SubjectSummary): Table {
  return {
    title: 'Admin live path: the background ingest meanwhile',
    columns: ['Load', 'msg/s acked', 'PUBACK p50 ms', 'PUBACK p99 ms', 'server CPU', 'DB CPU', 'other CPU'],
    rows: [
      [
        load.label,
        formatInt(load.ackedPerSec?.median ?? Number.NaN),
        formatMs(load.latency.p50Ms),
        formatMs(load.latency.p99Ms),
        formatCpu(load.serverCpuCores),
        load.databaseCpuCores === undefined ? '–' : formatCpu(load.databaseCpuCores),
        formatCpu(load.otherCpuCores),
      ],
    ],
  };
}

function probeNotes(phases: ProbePhaseResult[]): string[] {
  const notes: string[] = [];
  const sum = (pick: (phase: ProbePhaseResult) => number) => phases.reduce((total, phase) => total + pick(phase), 0);
  const failed = sum((phase) => phase.failed);
  if (failed > 0) {
    const errors = [...new Set(phases.flatMap((phase) => phase.errors))];
    notes.push(`${failed} probe publishes failed: ${errors.join('; ')}`);
  }
  const late = sum((phase) => phase.late);
  if (late > 0) notes.push(`${late} probe publishes left over 5 ms late (the previous PUBACK was slow)`);
  for (const name of VIEWS) {
    const missing = sum((phase) => phase.views[name]!.missing);
    const wrongTime = sum((phase) => phase.views[name]!.wrongTime);
    if (missing > 0) notes.push(`${name}: ${missing} acknowledged points never arrived: THE LIVE PATH LOST POINTS`);
    if (wrongTime > 0) notes.push(`${name}: ${wrongTime} points came back with another time than their "ts"`);
  }
  return notes;
}
