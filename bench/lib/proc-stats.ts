import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of other processes (hub, aedes, PostgreSQL) from Linux's /proc, sampled by the bench
 * parent so no process measures itself with its own CPU. See proc(5): /proc/<pid>/stat and /proc/<pid>/status.
 */

const CLOCK_TICKS_PER_SECOND = readConf('CLK_TCK', 100);
const PAGE_SIZE = readConf('PAGESIZE', 4096);

function readConf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

export interface ProcStat {
  pid: number;
  ppid: number;
  /** User + system CPU seconds of the process itself. */
  cpuSeconds: number;
  /** User + system CPU seconds of its children that have exited and been waited for. */
  reapedChildrenCpuSeconds: number;
  rssBytes: number;
}

/** undefined when the process is gone. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]); // fields[0] is field 3 (state)
  return {
    pid,
    ppid: field(4),
    cpuSeconds: (field(14) + field(15)) / CLOCK_TICKS_PER_SECOND,
    reapedChildrenCpuSeconds: (field(16) + field(17)) / CLOCK_TICKS_PER_SECOND,
    rssBytes: field(24) * PAGE_SIZE,
  };
}

export interface ProcMemory {
  rssBytes: number;
  /** Peak resident set size over the process's life (VmHWM). */
  peakRssBytes: number;
}

export function readProcMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (key: string) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** Open file descriptors of a process right now (needs the same user or root). */
export function countOpenFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** The soft "Max open files" limit of a running process. */
export function openFilesLimit(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
    return Number(text.match(/^Max open files\s+(\d+)/m)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds of a process and all its direct children, living or exited: what a PostgreSQL server
 * (postmaster + one backend per connection + background workers) costs in total.
 */
export function treeCpuSeconds(rootPid: number): number {
  const root = readProcStat(rootPid);
  if (!root) return Number.NaN;
  let total = root.cpuSeconds + root.reapedChildrenCpuSeconds;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === rootPid) continue;
    const stat = readProcStat(pid);
    if (stat?.ppid === rootPid) total += stat.cpuSeconds;
  }
  return total;
}

/** A process and its direct children (the hub's primary and its TELEHUB_WORKERS processes), living ones only. */
export function processTree(rootPid: number): number[] {
  const pids = [rootPid];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid !== rootPid && readProcStat(pid)?.ppid === rootPid) pids.push(pid);
  }
  return pids;
}

/**
 * Resident memory of a process and its direct children, summed (now, and each one's peak): what a hub with
 * workers holds in all. Pages the processes share (the node binary's text) count once per process, as in top.
 */
export function readTreeMemory(rootPid: number): ProcMemory | undefined {
  const memories = processTree(rootPid).map(readProcMemory);
  if (memories[0] === undefined) return undefined;
  return memories.reduce<ProcMemory>(
    (total, memory) => ({
      rssBytes: total.rssBytes + (memory?.rssBytes ?? 0),
      peakRssBytes: total.peakRssBytes + (memory?.peakRssBytes ?? 0),
    }),
    { rssBytes: 0, peakRssBytes: 0 },
  );
}

/** Measures CPU use (in cores: 1.0 = one core busy) of a process, or a process tree, between start and stop. */
export class CpuMeter {
  private startCpu = 0;
  private startAt = 0;

  constructor(private readonly readCpuSeconds: () => number) {}

  static forProcess(pid: number): CpuMeter {
    return new CpuMeter(() => readProcStat(pid)?.cpuSeconds ?? Number.NaN);
  }

  static forTree(rootPid: number): CpuMeter {
    return new CpuMeter(() => treeCpuSeconds(rootPid));
  }

  /** The whole machine: subtract what the bench's own processes used to see what other work took. */
  static forMachine(): CpuMeter {
    return new CpuMeter(machineBusySeconds);
  }

  start(): void {
    this.startCpu = this.readCpuSeconds();
    this.startAt = performance.now();
  }

  /** Cores used since start(). */
  stop(): number {
    const seconds = (performance.now() - this.startAt) / 1000;
    return (this.readCpuSeconds() - this.startCpu) / seconds;
  }
}

/** CPU seconds the whole machine spent busy (all cores, /proc/stat: everything but idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already counted in user)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Samples a process's RSS at an interval and keeps the largest value seen. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }

  private sample(): void {
    const rss = readProcMemory(this.pid)?.rssBytes ?? 0;
    if (rss > this.peak) this.peak = rss;
  }
}
