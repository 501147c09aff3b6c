const MAX_PACKET_ID = 0xffff;

/** Server-to-client QoS 1 publishes awaiting PUBACK: packet id -> the caller's tag. */
export class OutboundInflight {
  private readonly tags = new Map<number, unknown>();
  private nextId = 1;

  get size(): number {
    return this.tags.size;
  }

  /** Assigns a non-zero packet id not currently in use [MQTT-2.2.1-4]; undefined when all 65535 are taken. */
  allocate(tag: unknown): number | undefined {
    if (this.tags.size >= MAX_PACKET_ID) return undefined;
    while (this.tags.has(this.nextId)) this.advance();
    const id = this.nextId;
    this.advance();
    this.tags.set(id, tag);
    return id;
  }

  /** Forgets `id`; `found` is false for an id this session did not send or already saw acknowledged. */
  release(id: number): { found: boolean; tag: unknown } {
    const found = this.tags.has(id);
    const tag = this.tags.get(id);
    this.tags.delete(id);
    return { found, tag };
  }

  private advance(): void {
    this.nextId = this.nextId === MAX_PACKET_ID ? 1 : this.nextId + 1;
  }
}
