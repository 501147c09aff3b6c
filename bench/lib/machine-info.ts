import { cpus, loadavg, release, totalmem } from 'node:os';
import { openFilesLimit } from './proc-stats.js';

/** What the figures were measured on; absolute figures mean little without it. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  postgres: string;
  kernel: string;
  /** Per process: it caps connections per hub and per generator process. */
  openFilesLimit: number;
  /** 1-minute load average when the run started: other work on a shared machine shows here. */
  loadAverageAtStart: number;
}

export function machineInfo(postgresVersion: string): MachineInfo {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    postgres: postgresVersion,
    kernel: release(),
    openFilesLimit: openFilesLimit(process.pid),
    loadAverageAtStart: loadavg()[0] ?? Number.NaN,
  };
}
