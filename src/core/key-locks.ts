import type { Work } from './run-types.js';

/**
 * No two rows that share a key (an email, an id) are in one request or in flight together: a row waits for the
 * rows before it that hold any of its keys, so the remote ends with the later row's values.
 */
export class KeyLocks {
  private readonly claims = new Map<string, Work>();
  /** Rows waiting for another row's keys. */
  blocked = 0;

  /** Claims the row's keys; true when it can go now, false when it waits for earlier holders. */
  claim(work: Work): boolean {
    const deps = new Set<Work>();
    for (const k of work.lockKeys) {
      const holder = this.claims.get(k);
      if (holder && !holder.done) deps.add(holder);
      this.claims.set(k, work);
    }
    if (deps.size === 0) return true;
    work.waitingOn = deps.size;
    this.blocked++;
    for (const d of deps) (d.dependents ??= []).push(work);
    return false;
  }

  /** Releases a finished row's keys; returns the rows that can go now. */
  release(work: Work): Work[] {
    for (const k of work.lockKeys) if (this.claims.get(k) === work) this.claims.delete(k);
    const freed: Work[] = [];
    for (const d of work.dependents ?? []) {
      if (--d.waitingOn === 0) {
        this.blocked--;
        freed.push(d);
      }
    }
    return freed;
  }
}
