import { join } from 'node:path';
import type { AedesCommand, AedesEvent } from './aedes.server.js';
import { ChildWorker } from './child-worker.js';
import { BENCH_DIST } from './repo-paths.js';

const START_TIMEOUT_MS = 15_000;
const REPLY_TIMEOUT_MS = 5_000;

export interface LaunchedAedes {
  readonly pid: number;
  readonly port: number;
  /** Why aedes ended client connections so far (keep-alive timeouts, socket errors), with counts. */
  closeReasons(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** aedes in its own process (bench/lib/aedes.server.ts) on 127.0.0.1, an ephemeral port. */
export async function launchAedes(): Promise<LaunchedAedes> {
  const worker = ChildWorker.fork<AedesCommand, AedesEvent>(join(BENCH_DIST, 'lib', 'aedes.server.js'), 'aedes');
  const { port } = await worker.next('listening', START_TIMEOUT_MS);
  return {
    pid: worker.pid,
    port,
    closeReasons: async () => {
      worker.send({ type: 'stats' });
      return (await worker.next('stats', REPLY_TIMEOUT_MS)).closeReasons;
    },
    stop: async () => {
      worker.send({ type: 'close' });
      await Promise.race([worker.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      await worker.kill();
    },
  };
}
