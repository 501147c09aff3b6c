import type { DatabaseClient } from '../client.js';

/** The channel hub processes tell each other what another process must act on (payload: JSON, see ClusterBus). */
export const CLUSTER_CHANNEL = 'telehub_cluster';

/**
 * NOTIFY stops at 8,000 bytes per payload; this leaves room for the channel name and any multi-byte characters
 * counted twice. Anything larger must go by reference to a table.
 */
export const CLUSTER_PAYLOAD_MAX_BYTES = 7_500;

/**
 * The bus between hub processes: PostgreSQL LISTEN/NOTIFY on one channel. Notices are sent outside any data
 * transaction, several in one statement, from a connection of their own: a transaction that NOTIFYs takes a
 * database-wide lock at commit (PostgreSQL serializes the commits of all notifying transactions), so a notice
 * never lengthens a telemetry or presence transaction, and one process holds at most one such commit at a time.
 */
export class ClusterBusRepository {
  /**
   * @param listener the pool whose dedicated LISTEN connection (postgres.js opens one per client) receives notices
   * @param notifier a client of one connection that sends them
   */
  constructor(
    private readonly listener: DatabaseClient,
    private readonly notifier: DatabaseClient,
  ) {}

  /** Sends each payload as one notice, all in one statement (one commit). Each must fit CLUSTER_PAYLOAD_MAX_BYTES. */
  async publish(payloads: readonly string[]): Promise<void> {
    if (payloads.length === 0) return;
    await this.notifier.sql`
      SELECT pg_notify(${CLUSTER_CHANNEL}, payload) FROM unnest(${payloads as string[]}::text[]) AS payload`;
  }

  /**
   * Calls `onPayload` with every notice on the channel, this process's own included. `onListen` runs each time the
   * listening connection is (re)established: notices sent while it was down are lost, so the caller checks the
   * tables for what it may have missed then.
   */
  async listen(onPayload: (payload: string) => void, onListen: () => void): Promise<() => Promise<void>> {
    const { unlisten } = await this.listener.sql.listen(CLUSTER_CHANNEL, onPayload, onListen);
    return unlisten;
  }
}
