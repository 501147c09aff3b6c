import { type ChildProcess, fork } from 'node:child_process';

/** Every child the bench started, so an interrupted run (Ctrl-C, a crash) leaves none behind. */
const liveChildren = new Set<ChildProcess>();

/** Ends every child at once (an interrupted run has no use for graceful stops). */
export function killAllChildren(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

process.once('exit', killAllChildren);

export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Messages from a worker carry a `type`; a worker reports a failure as `{ type: 'error', message }`. */
export interface WorkerMessage {
  type: string;
}

interface Waiter {
  resolve(message: WorkerMessage): void;
  reject(error: Error): void;
}

/**
 * A forked Node process spoken to over IPC: send commands, await replies by type. Replies that arrive
 * before anyone waits for them are kept, so a fast worker cannot race its parent.
 */
export class ChildWorker<In extends object, Out extends WorkerMessage> {
  readonly exited: Promise<number | null>;
  private readonly inbox = new Map<string, WorkerMessage[]>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly listeners = new Map<string, Array<(message: WorkerMessage) => void>>();
  private failure: Error | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    trackChild(child);
    child.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.fail(new Error(`${label} exited (${signal ?? code}) before answering`));
        resolve(code);
      });
    });
  }

  /** Forks `modulePath` (a built .js file); stderr is passed through so worker crashes are visible. */
  static fork<In extends object, Out extends WorkerMessage>(
    modulePath: string,
    label: string,
    env: Record<string, string> = {},
  ): ChildWorker<In, Out> {
    const child = fork(modulePath, [], {
      env: { ...process.env, ...env },
      execArgv: ['--enable-source-maps'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildWorker<In, Out>(child, label);
  }

  get pid(): number {
    return this.child.pid ?? Number.NaN;
  }

  send(message: In): void {
    if (this.child.connected) this.child.send(message);
  }

  /** The next message of this type (or one that already arrived). */
  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    const queued = this.inbox.get(type);
    if (queued && queued.length > 0) return Promise.resolve(queued.shift() as Extract<Out, { type: T }>);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter.reject(new Error(`${this.label}: no '${type}' message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as Extract<Out, { type: T }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          const list = this.waiters.get(type) ?? [];
          const index = list.indexOf(waiter);
          if (index >= 0) list.splice(index, 1);
          reject(error);
        },
      };
      const list = this.waiters.get(type) ?? [];
      list.push(waiter);
      this.waiters.set(type, list);
    });
  }

  /** Every message of this type as it arrives (progress reports); they are not kept for next(). */
  on<T extends Out['type']>(type: T, listener: (message: Extract<Out, { type: T }>) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener as (message: WorkerMessage) => void);
    this.listeners.set(type, list);
  }

  /** Asks nothing: ends the process (SIGTERM, then SIGKILL after `graceMs`). */
  async kill(graceMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'error') {
      this.fail(new Error(`${this.label}: ${(message as WorkerMessage & { message?: string }).message}`));
      return;
    }
    const listeners = this.listeners.get(message.type);
    if (listeners) {
      for (const listener of listeners) listener(message);
      return;
    }
    const waiter = this.waiters.get(message.type)?.shift();
    if (waiter) {
      waiter.resolve(message);
      return;
    }
    const queued = this.inbox.get(message.type) ?? [];
    queued.push(message);
    this.inbox.set(message.type, queued);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const list of this.waiters.values()) for (const waiter of [...list]) waiter.reject(error);
    this.waiters.clear();
  }
}

/** The worker side: typed send to the parent, and a handler for its messages that reports failures. */
export function workerChannel<In extends object, Out extends WorkerMessage>(
  handle: (message: In) => void | Promise<void>,
): (message: Out) => void {
  const send = (message: Out | { type: 'error'; message: string }) => {
    if (process.connected) process.send!(message);
  };
  process.on('message', (message: In) => {
    Promise.resolve()
      .then(() => handle(message))
      .catch((error: unknown) =>
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  // The parent went away (crash, Ctrl-C): do not linger holding thousands of sockets.
  process.on('disconnect', () => process.exit(0));
  return send;
}
