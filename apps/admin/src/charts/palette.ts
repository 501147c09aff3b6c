/** Series colours that read well on light and dark backgrounds. */
export const SERIES_COLORS = ['#6366f1', '#0ea5e9', '#10b981', '#f59e0b', '#ec4899', '#8b5cf6', '#14b8a6', '#ef4444'];

/** The same metric gets the same colour everywhere (and after a reload). */
export function colorFor(name: string): string {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return SERIES_COLORS[hash % SERIES_COLORS.length]!;
}
