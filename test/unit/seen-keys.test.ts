import { describe, expect, it } from 'vitest';
import { SeenKeys } from '../../src/core/seen-keys.js';

// Emails as exports write them: many look alike (same names, same domains), which is where weak hashing collides.
const email = (i: number) => `${['ann', 'bo', 'cy', 'dee'][i % 4]}.${i}.lee${i % 97}@example${i % 7}.org`;

describe('the identities a run has met', () => {
  it('finds no earlier row for 300,000 different emails, and finds each when it comes back', () => {
    const seen = new SeenKeys();
    const n = 300_000;
    let falseRepeats = 0;
    for (let i = 0; i < n; i++) if (seen.see(2, email(i), true)) falseRepeats++;
    expect(falseRepeats).toBe(0);
    let found = 0;
    for (let i = 0; i < n; i += 11) {
      const again = seen.see(2, email(i), true);
      if (again?.sameSpelling) found++;
    }
    expect(found).toBe(Math.ceil(n / 11));
  });

  it('tells a case-only spelling from the same spelling, and keeps kinds apart', () => {
    const seen = new SeenKeys();
    for (let i = 0; i < 50_000; i++) seen.see(2, email(i), true);
    let caseOnly = 0;
    for (let i = 0; i < 50_000; i += 5) {
      const spelled = email(i).replace(/^./, (c) => c.toUpperCase());
      if (seen.see(2, spelled, true)?.sameSpelling === false) caseOnly++;
    }
    // A 16-bit hash of the spelling: a case difference may go unsaid once in 65,536 pairs, never more here.
    expect(caseOnly).toBeGreaterThanOrEqual(10_000 - 1);
    expect(seen.see(1, email(3), false)).toBeUndefined();
    expect(seen.see(1, email(3).toUpperCase(), false)).toBeUndefined();
    expect(seen.see(1, email(3), false)).toEqual({ sameSpelling: true });
    // Beyond ASCII, case is folded as JavaScript's toLowerCase folds it.
    expect(seen.see(2, 'josé.núñez@example.org', true)).toBeUndefined();
    expect(seen.see(2, 'JOSÉ.NÚÑEZ@example.org', true)).toEqual({ sameSpelling: false });
  });
});
