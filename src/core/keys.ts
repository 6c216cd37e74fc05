/** An email as a key: trimmed and lower-cased (matching, locks, the state). */
export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}
