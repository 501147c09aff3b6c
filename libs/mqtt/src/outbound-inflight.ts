const MAX_PACKET_ID = 0xffff;
/** What a session without restored publishes reads: one shared empty map, never written to. */
const NONE: ReadonlyMap<number, unknown> = new Map();

/** A QoS 1 publish of the server that the client has not acknowledged: its packet id and the caller's tag. */
export interface UnacknowledgedPublish {
  packetId: number;
  tag: unknown;
}

/**
 * Server-to-client QoS 1 publishes awaiting PUBACK: packet id -> the caller's tag. A resumed session also holds
 * the ids its earlier connection left unacknowledged (`restored`), kept for their resend with the same id
 * [MQTT-4.4.0-1]: no new publish takes them, and they count against Receive Maximum once resent.
 * Both maps are made on first use: an idle device has neither.
 */
export class OutboundInflight {
  private tags: Map<number, unknown> | undefined;
  private restoredTags: Map<number, unknown> | undefined;
  private nextId = 1;

  /** Publishes written on this connection and not acknowledged yet. */
  get size(): number {
    return this.tags?.size ?? 0;
  }

  /** Ids an earlier connection of the session left unacknowledged and this one has not resent yet. */
  get restored(): ReadonlyMap<number, unknown> {
    return this.restoredTags ?? NONE;
  }

  /** Assigns a non-zero packet id not currently in use [MQTT-2.2.1-4]; undefined when all 65535 are taken. */
  allocate(tag: unknown): number | undefined {
    const restored = this.restored;
    if (this.size + restored.size >= MAX_PACKET_ID) return undefined;
    this.tags ??= new Map();
    while (this.tags.has(this.nextId) || restored.has(this.nextId)) this.advance();
    const id = this.nextId;
    this.advance();
    this.tags.set(id, tag);
    return id;
  }

  /** Keeps `id` for the resend of a publish an earlier connection of the session left unacknowledged. */
  restore(id: number, tag: unknown): void {
    if (this.tags?.has(id)) return;
    this.restoredTags ??= new Map();
    this.restoredTags.set(id, tag);
  }

  /** Takes a restored id for its resend; false when `id` is not one. */
  resend(id: number, tag: unknown): boolean {
    if (!this.restoredTags?.delete(id)) return false;
    this.tags ??= new Map();
    this.tags.set(id, tag);
    return true;
  }

  /** Forgets `id`; `found` is false for an id this session did not send or already saw acknowledged. */
  release(id: number): { found: boolean; tag: unknown } {
    const tags = this.tags?.has(id) ? this.tags : this.restoredTags;
    const found = tags?.has(id) ?? false;
    const tag = tags?.get(id);
    tags?.delete(id);
    return { found, tag };
  }

  /** Every publish still awaiting PUBACK, restored ones included, in packet id order: what a session keeps. */
  unacknowledged(): UnacknowledgedPublish[] {
    return [...(this.tags ?? []), ...this.restored]
      .map(([packetId, tag]) => ({ packetId, tag }))
      .sort((a, b) => a.packetId - b.packetId);
  }

  private advance(): void {
    this.nextId = this.nextId === MAX_PACKET_ID ? 1 : this.nextId + 1;
  }
}
