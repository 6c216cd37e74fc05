/** Replaces every known secret in a text with a fixed mask, so that no message can leak one. */
export function createRedactor(secrets: Iterable<string | undefined>): (text: string) => string {
  const list = [...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  // Longest first, so that a secret containing another is masked whole.
  list.sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of list) {
      if (out.includes(secret)) out = out.split(secret).join('***');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join('***');
    }
    return out;
  };
}
