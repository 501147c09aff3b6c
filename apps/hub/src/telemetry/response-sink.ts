import type { Response } from 'express';
import type { ChunkSink } from './telemetry-csv.js';

/** The client went away, or read nothing for the stall timeout: the export stops and its cursor closes. */
export class ClientGoneError extends Error {
  readonly code = 'client_gone';

  constructor(reason: string) {
    super(reason);
    this.name = 'ClientGoneError';
  }
}

/**
 * A CSV download on an Express response. Headers are set at the first write, so an error before any data
 * still becomes a Problem Details answer. A write that fills the socket's buffer settles only on `drain`, so
 * the export reads its next batch only when this client has taken the previous one.
 */
export class ResponseSink implements ChunkSink {
  private filename = 'telemetry.csv';

  constructor(
    private readonly response: Response,
    /** A client that takes nothing for this long is cut off (TELEHUB_HISTORY_CSV_STALL_TIMEOUT_MS). */
    private readonly stallTimeoutMs: number,
  ) {}

  start(filename: string): void {
    this.filename = filename;
  }

  write(chunk: string): Promise<void> {
    const response = this.response;
    if (response.destroyed || response.writableEnded)
      return Promise.reject(new ClientGoneError('the client went away'));
    if (!response.headersSent) {
      response.status(200);
      response.setHeader('Content-Type', 'text/csv; charset=utf-8');
      response.setHeader('Content-Disposition', `attachment; filename="${this.filename}"`);
      response.setHeader('Cache-Control', 'no-store');
      // Node discards a HEAD response's body without back-pressure: stop at the headers instead of reading it all.
      if (response.req.method === 'HEAD') {
        response.end();
        return Promise.reject(new ClientGoneError('a HEAD request takes the headers only'));
      }
    }
    if (response.write(chunk)) return Promise.resolve();
    return this.drained();
  }

  end(): void {
    this.response.end();
  }

  /**
   * Aborts a started download so the client sees a failed transfer, not a complete-looking file. A reset,
   * not a close: a close would leave the kernel sending the unsent rest to a client that may never read it.
   */
  abort(): void {
    if (this.response.writableEnded) return;
    const socket = this.response.socket;
    if (socket && !socket.destroyed) socket.resetAndDestroy();
    else this.response.destroy();
  }

  private drained(): Promise<void> {
    const response = this.response;
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        response.off('drain', onDrain);
        response.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(new ClientGoneError('the client went away'));
      const timer = setTimeout(() => {
        settle(new ClientGoneError(`the client read nothing for ${this.stallTimeoutMs} ms`));
      }, this.stallTimeoutMs);
      response.on('drain', onDrain);
      response.on('close', onClose);
    });
  }
}
