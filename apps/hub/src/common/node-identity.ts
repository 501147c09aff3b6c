import { randomUUID } from 'node:crypto';

/**
 * Who this hub process is among the processes sharing its database: the configured name (TELEHUB_NODE_ID, the
 * host name by default, for people) and an instance id made at random when the process starts. Two processes
 * never share an instance id, even with one name on one host; presence and leases are keyed by it.
 */
export class NodeIdentity {
  constructor(
    readonly name: string,
    readonly instanceId: string = randomUUID(),
  ) {}
}
