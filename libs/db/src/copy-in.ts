import type { Sql, TransactionSql } from 'postgres';

/**
 * Runs `statement` (a `COPY … FROM STDIN`) on `sql`, sends `data` as its whole input and resolves once the
 * server has taken it (CommandComplete), or rejects with the server's error (a PostgresError with its SQLSTATE).
 * Meant for a transaction (`sql.begin`): the rows commit with the rest of it.
 *
 * postgres.js 3.4.9 turns the COPY into a writable stream, but when the server refuses the data after the stream
 * was ended (the usual case: the refusal arrives after the last bytes were sent), it never calls the stream's
 * final callback and drops the error: `finish` never comes, `sql.begin` never rolls back, and the connection
 * stays "idle in transaction (aborted)" for good (porsager/postgres#1173; fix proposed in #1183). The driver
 * does report the error to the COPY query's `reject`, which it calls although the query already resolved with
 * the stream; wrapping that function, synchronously after the stream arrives (no server message can be handled
 * in between), hands the error to the caller. A refusal that arrives while data is still being written destroys
 * the stream instead, which the `error` event reports; either way the first one settles the promise.
 */
export async function copyIn(sql: Sql | TransactionSql, statement: string, data: Buffer | string): Promise<void> {
  const copy = sql.unsafe(statement) as ReturnType<Sql['unsafe']> & { reject(error: unknown): void };
  const stream = await copy.writable();
  return new Promise<void>((resolve, reject) => {
    const rejectQuery = copy.reject;
    copy.reject = (error: unknown) => {
      reject(error);
      rejectQuery(error);
    };
    stream.once('error', reject);
    stream.end(data, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}
