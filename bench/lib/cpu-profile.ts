import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatInt } from './format.js';
import type { Table } from './table.js';

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Areas and functions listed per profile, by their own (self) time. */
const TOP_AREAS = 12;
const TOP_FUNCTIONS = 15;

/**
 * Where a hub spent its CPU, from the profiles `--profile` made: busy time by area (this repository's
 * directories, packages, Node itself, garbage collection) and the functions with the most self time.
 * Idle time is left out, so the shares are of the time the hub was actually working.
 */
export async function summarizeCpuProfiles(dir: string): Promise<Table[]> {
  const files = (await readdir(dir).catch(() => [])).filter((file) => file.endsWith('.cpuprofile')).sort();
  const tables: Table[] = [];
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    tables.push(summarize(basename(file, '.cpuprofile'), profile));
  }
  return tables;
}

function summarize(name: string, profile: CpuProfile): Table {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    if (!frame || frame.functionName === '(idle)') return;
    const micros = profile.timeDeltas[index] ?? 0;
    busy += micros;
    const area = areaOf(frame.url, frame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
    const where = frame.url ? ` ${shortPath(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  });
  const share = (micros: number) => `${((micros / busy) * 100).toFixed(1)} %`;
  const sorted = (map: Map<string, number>, limit: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, limit);
  return {
    title: `CPU profile ${name}: ${formatInt(busy / 1000)} ms busy`,
    columns: ['Where', 'share of busy time'],
    notes: ['Start-up (module loading) is included: it weighs more the shorter the run.'],
    rows: [
      ...sorted(byArea, TOP_AREAS).map(([area, micros]) => [area, share(micros)]),
      ['— functions by self time —', ''],
      ...sorted(byFunction, TOP_FUNCTIONS).map(([key, micros]) => [key, share(micros)]),
    ],
  };
}

/** This repository's code by directory, packages by name, and Node's own work. */
function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return '(program: V8 and native, unattributed)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return `package ${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const dist = url.indexOf('/dist/');
  // This repository's built code: its directory (apps/hub/src/ingest, libs/mqtt/src), not the file.
  if (dist >= 0)
    return url
      .slice(dist + '/dist/'.length)
      .split('/')
      .slice(0, -1)
      .slice(0, 4)
      .join('/');
  return 'Node.js core and native code';
}

function shortPath(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}
