/** "a, b c" → ["a", "b", "c"]: labels hold no spaces or commas, so either separates them. */
export function parseLabels(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}
