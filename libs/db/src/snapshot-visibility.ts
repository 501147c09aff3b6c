/**
 * PostgreSQL snapshots as `pg_current_snapshot()` prints them ("xmin:xmax:xip,xip,…"), and whether one
 * includes a committed transaction: the JavaScript side of `pg_visible_in_snapshot()`, for transaction ids
 * the hub learned when its own statements committed.
 */
export interface DatabaseSnapshot {
  /** Every transaction below this had finished when the snapshot was taken. */
  xmin: bigint;
  /** No transaction from this on had finished. */
  xmax: bigint;
  /** Between the two, those still running then. */
  inProgress: ReadonlySet<bigint>;
}

export function parseSnapshot(text: string): DatabaseSnapshot {
  const [xmin, xmax, list] = text.split(':');
  if (xmin === undefined || xmax === undefined || list === undefined) {
    throw new Error(`not a pg_snapshot: ${JSON.stringify(text)}`);
  }
  const inProgress = new Set(list === '' ? [] : list.split(',').map((xid) => BigInt(xid)));
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), inProgress };
}

/** Whether the committed transaction `xid` is visible in `snapshot`, i.e. its rows were read by it. */
export function committedBefore(xid: bigint, snapshot: DatabaseSnapshot): boolean {
  if (xid < snapshot.xmin) return true;
  if (xid >= snapshot.xmax) return false;
  return !snapshot.inProgress.has(xid);
}
