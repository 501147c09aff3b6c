import type { AdminServerMessage } from '@telehub/contracts';
import { WebSocket } from 'ws';

type Message = AdminServerMessage;
type OfType<T extends Message['type']> = Extract<Message, { type: T }>;

/** A `ws` client on the admin channel that records every message, so tests can wait for the ones they need. */
export class AdminClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      for (const listener of this.listeners) listener();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', () => undefined);
  }

  static async open(baseUrl: string, headers: Record<string, string> = {}): Promise<AdminClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/admin/ws`, { headers });
    const client = new AdminClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Opens and authenticates with the first message. */
  static async signedIn(baseUrl: string, token: string): Promise<AdminClient> {
    const client = await AdminClient.open(baseUrl);
    client.send({ type: 'auth', token });
    await client.next('auth_ok');
    return client;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  ofType<T extends Message['type']>(type: T, id?: string): OfType<T>[] {
    return this.messages.filter(
      (message) => message.type === type && (id === undefined || (message as { id?: string }).id === id),
    ) as OfType<T>[];
  }

  /** The first message of `type` (for `id`) matching `where`, waiting for it up to `timeoutMs`. */
  next<T extends Message['type']>(
    type: T,
    options: { id?: string; where?: (message: OfType<T>) => boolean; timeoutMs?: number } = {},
  ): Promise<OfType<T>> {
    const find = () => this.ofType(type, options.id).find((message) => options.where?.(message) ?? true);
    return this.until(find, options.timeoutMs ?? 5000, `no ${type} message`);
  }

  until<T>(check: () => T | undefined, timeoutMs: number, what = 'condition not met'): Promise<T> {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = () => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((item) => item !== listener);
      };
      this.listeners.push(listener);
    });
  }

  /** Every live point of a subscription, in arrival order, as [time, value] per metric. */
  livePoints(id: string, metric: string): [number, number][] {
    return this.ofType('points', id).flatMap((message) =>
      message.series
        .filter((series) => series.metric === metric)
        .flatMap((series) =>
          series.times.map((time, index) => [time, series.values[index] as number] as [number, number]),
        ),
    );
  }

  close(): void {
    this.ws.close();
  }
}
