import type { Work } from './run-types.js';
import type { Operation, StateEntry, Status, SyncState } from './types.js';
import { SUCCESS_STATUSES } from './statuses.js';

/**
 * Keeps the local state in step with the results: remote ids and payload hashes of rows sent successfully, and
 * deleted records forgotten. Writes are grouped, at most every 250 ms or 2,000 rows, one transaction each: fewer,
 * larger commits cost the state's writer less. A killed run loses at most the last group (those rows are sent again
 * and matched by key, never duplicated); what is committed is always consistent.
 */
export class StateTracker {
  private readonly writes: StateEntry[] = [];
  private readonly forget: string[] = [];
  private flushedAt = performance.now();

  constructor(
    private readonly state: SyncState | undefined,
    private readonly sending: boolean,
    private readonly operation: Operation,
  ) {}

  remember(w: Work, status: Status, remoteId: string | undefined, incomplete?: boolean): void {
    if (!this.state || !this.sending) return;
    if (status === 'DELETED') {
      if (remoteId) this.forget.push(...remoteId.split(' '));
    } else if (SUCCESS_STATUSES.has(status) && this.operation === 'upsert') {
      // A row written with a part not applied keeps no hash: the next --changed-only run sends it again.
      this.writes.push({ key: w.key, remoteId, hash: incomplete ? undefined : w.hash, status });
    }
  }

  flush(force = false): void {
    if (!this.state || !this.sending) return;
    if (!force && this.writes.length + this.forget.length < 2000 && performance.now() - this.flushedAt < 250) return;
    this.flushedAt = performance.now();
    if (this.writes.length > 0) this.state.record(this.writes.splice(0));
    if (this.forget.length > 0) this.state.forgetRemote(this.forget.splice(0));
  }
}
