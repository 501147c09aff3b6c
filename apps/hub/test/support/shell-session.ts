import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a reader waits for Ctrl-C to take effect before pressing it again. */
const CTRL_C_AGAIN_MS = 1000;

/**
 * One bash, fed block after block, as a reader pastes them into one terminal: variables, the working directory
 * and background jobs carry over from block to block. What the commands print (stdout and stderr, background
 * jobs too) is collected as the terminal would show it; the session's own bookkeeping goes over fd 3.
 *
 * Stricter than a terminal, so a broken step cannot pass unnoticed: `set -e -o pipefail` (the first failing
 * command ends the session, and with it the test), and curl fails on an HTTP error status (`--fail-with-body`),
 * which `curl -s` alone would print and exit 0 on.
 */
export class ShellSession {
  private readonly bash: ChildProcess;
  private terminal = '';
  private control = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly waiters = new Set<() => void>();
  private blockCount = 0;

  /** `cwd`: where the commands run; `scratchDir`: where the session keeps the blocks it sources. */
  constructor(
    cwd: string,
    private readonly scratchDir: string,
  ) {
    // -m: job control, so each background job is a process group of its own that Ctrl-C (SIGINT to the group)
    // reaches, as in a terminal; without it bash starts background jobs with SIGINT ignored.
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const collect = (stream: Readable | null) =>
      stream?.on('data', (chunk: Buffer) => {
        this.terminal += chunk.toString();
      });
    collect(this.bash.stdout);
    collect(this.bash.stderr);
    (this.bash.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      this.control += chunk.toString();
      this.wake();
    });
    this.bash.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.wake();
    });
    this.send('set -e -o pipefail -m');
    this.send('curl() { command curl --fail-with-body "$@"; }');
  }

  /** Everything the commands printed so far. */
  get output(): string {
    return this.terminal;
  }

  /**
   * Runs `script` in the session and waits for it to finish. Resolves with what it printed (and what background
   * jobs printed meanwhile); rejects when a command fails (the session is over then) or after `timeoutMs`.
   */
  async run(script: string, timeoutMs: number): Promise<string> {
    const from = this.terminal.length;
    const id = await this.source(script, '');
    await this.until(`done ${id}`, timeoutMs, script);
    return this.terminal.slice(from);
  }

  /** Starts `script` as a background job (a process group of its own) and resolves with its process id. */
  async start(script: string, timeoutMs: number): Promise<number> {
    const id = await this.source(script, ' &');
    this.send(`echo "started ${id} $!" >&3`);
    const line = await this.until(`started ${id}`, timeoutMs, script);
    return Number(line.split(' ')[2]);
  }

  /**
   * Ctrl-C for a job `start` returned: SIGINT to its process group, pressed again while it still runs, as a
   * reader does. One is not always enough for a loop: when the signal reaches bash just after the command it
   * waits for has exited by itself, bash takes it that the command handled the signal, and loops on.
   */
  async interrupt(pid: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running(pid)) {
      if (Date.now() > deadline) throw new Error(`Ctrl-C did not stop job ${pid} in ${timeoutMs} ms`);
      process.kill(-pid, 'SIGINT');
      for (let waited = 0; waited < CTRL_C_AGAIN_MS && this.running(pid); waited += 50) await sleep(50);
    }
    this.send(`wait ${pid} || true; echo "stopped ${pid}" >&3`);
    await this.until(`stopped ${pid}`, timeoutMs, `(stopping job ${pid})`);
  }

  /** Whether a job `start` returned still runs. */
  running(pid: number): boolean {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** The value of a shell variable of the session. */
  async variable(name: string, timeoutMs = 5000): Promise<string> {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`not a variable name: ${name}`);
    this.send(`printf 'var ${name} %s\\n' "\${${name}-}" >&3`);
    const line = await this.until(`var ${name}`, timeoutMs, `echo $${name}`);
    return line.slice(`var ${name} `.length);
  }

  async close(): Promise<void> {
    if (this.exit) return;
    const exited = new Promise((resolve) => this.bash.once('exit', resolve));
    this.bash.stdin?.end();
    const timer = setTimeout(() => this.bash.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Writes the script to a file and sources it: the session's own shell runs it, line numbers and all. */
  private async source(script: string, suffix: string): Promise<number> {
    const id = ++this.blockCount;
    const file = join(this.scratchDir, `block-${id}.sh`);
    await writeFile(file, script);
    this.send(`. '${file}'${suffix}`);
    if (!suffix) this.send(`echo "done ${id}" >&3`);
    return id;
  }

  private send(line: string): void {
    this.bash.stdin?.write(`${line}\n`);
  }

  /** The first control line that is `key` or starts with `key` and a space (each is used once), or why it will not come. */
  private async until(key: string, timeoutMs: number, what: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.control.split('\n');
      const index = lines.findIndex((line) => line === key || line.startsWith(`${key} `));
      if (index >= 0) {
        const line = lines[index]!;
        lines.splice(index, 1);
        this.control = lines.join('\n');
        return line;
      }
      if (this.exit) {
        throw new Error(
          `failed (bash exited with ${this.exit.code ?? this.exit.signal}, set -e):\n${what}\n--- terminal ---\n${this.terminal}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`did not finish in ${timeoutMs} ms:\n${what}\n--- terminal ---\n${this.terminal}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }
}
