import { createServer } from 'node:net';
import { WebSocket } from 'ws';

/** A process's memory after a full garbage collection, as `process.memoryUsage()` reports it. */
export interface HeapSample {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

const REPLY_TIMEOUT_MS = 60_000;

/** A free loopback port for a child's `--inspect=127.0.0.1:<port>`. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Reads the memory of another Node process through its inspector (the process runs with `--inspect`), after a
 * full collection, so what is measured is what is still referenced, not garbage waiting for the next GC. The
 * inspector's own objects live in the same heap; they are there before and after, so deltas cancel them.
 */
export class HeapProbe {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private snapshotChunks: string[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: { chunk?: string };
      };
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk') this.snapshotChunks.push(message.params!.chunk!);
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result);
    });
  }

  /** Connects to the inspector listening on `port` (it may take a moment to come up). */
  static async connect(port: number, timeoutMs = 30_000): Promise<HeapProbe> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/json/list`);
        const [target] = (await response.json()) as Array<{ webSocketDebuggerUrl: string }>;
        const socket = new WebSocket(target!.webSocketDebuggerUrl);
        await new Promise((resolve, reject) => {
          socket.once('open', resolve);
          socket.once('error', reject);
        });
        return new HeapProbe(socket);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Two full collections (the second frees what finalizers of the first released), then the figures. */
  async sample(): Promise<HeapSample> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const result = (await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result: { value: string } };
    return JSON.parse(result.result.value) as HeapSample;
  }

  /** A heap snapshot (.heapsnapshot JSON, for Chrome DevTools' Memory tab) of the process as it is now. */
  async heapSnapshot(): Promise<string> {
    this.snapshotChunks = [];
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const text = this.snapshotChunks.join('');
    this.snapshotChunks = [];
    return text;
  }

  close(): void {
    this.socket.close();
  }

  private call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: ${method} got no answer in ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }
}
