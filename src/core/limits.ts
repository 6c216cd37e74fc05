import type { TargetLimits } from './target.js';

/** Identities a run reads in one lookup call (TargetLimits.lookupBatchSize, else maxBatchSize). */
export function readBatchSize(limits: TargetLimits): number {
  return Math.max(1, limits.lookupBatchSize ?? limits.maxBatchSize);
}
