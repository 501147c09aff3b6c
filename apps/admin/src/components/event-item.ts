/** One entry of an event list: a device event, or a burst of short sessions grouped into one. */
export interface EventItem {
  key: string | number;
  deviceId?: string | null;
  type: string;
  detail: Record<string, unknown>;
  /** Epoch ms. */
  at: number;
}
