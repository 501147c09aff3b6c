/** Number formatting for the printed tables (results JSON keeps raw numbers). */

export function formatInt(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds with two decimals below 10 ms, one below 100 ms, none above. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

/** A share of one CPU core, as top shows it (200 % is two cores busy). */
export function formatCpu(coreFraction: number): string {
  if (!Number.isFinite(coreFraction)) return '–';
  return `${Math.round(coreFraction * 100)} %`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (abs >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A ratio such as hub/ceiling, as a percentage. */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)} %`;
}
