/** The chart ranges of the device page. Every one is live: history first, then points as they are committed. */
export interface TimeRange {
  key: string;
  label: string;
  /** The snapshot's `history` in the admin protocol. */
  history: string;
  windowMs: number;
}

const MINUTE = 60_000;

export const TIME_RANGES: readonly TimeRange[] = [
  { key: '15m', label: 'Live 15 min', history: '-15m', windowMs: 15 * MINUTE },
  { key: '1h', label: '1 h', history: '-1h', windowMs: 60 * MINUTE },
  { key: '24h', label: '24 h', history: '-24h', windowMs: 24 * 60 * MINUTE },
  { key: '7d', label: '7 d', history: '-7d', windowMs: 7 * 24 * 60 * MINUTE },
];

export const DEFAULT_RANGE = TIME_RANGES[0]!;

export function findRange(key: string | null | undefined): TimeRange {
  return TIME_RANGES.find((range) => range.key === key) ?? DEFAULT_RANGE;
}
