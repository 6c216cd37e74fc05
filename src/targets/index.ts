/** The list of targets: the one place that knows every target folder. A new target is one more line here. */
import type { Target } from '../core/types.js';
import type { Emulator, EmulatorSettings, TargetModule } from '../sandbox/emulator-types.js';

export type { EmulatorSettings, TargetModule } from '../sandbox/emulator-types.js';
import { InternalError } from '../core/errors.js';
import { luminate } from './luminate/index.js';
import { TARGET_NAMES } from './names.js';
import { salsa } from './salsa/index.js';

const MODULES: TargetModule[] = [salsa, luminate].map(registered);

/**
 * A target's capabilities are checked once, as it is registered, so no caller has to assert them: one that deletes
 * says how (`deletes`), and its name is among the names the help knows without loading any target.
 */
function registered(m: TargetModule): TargetModule {
  const t = m.target;
  const problems: string[] = [];
  if (t.operations.includes('delete') !== !!t.deletes) problems.push(`operations ${t.operations.includes('delete') ? 'include' : 'lack'} delete, but deletes is ${t.deletes ? 'given' : 'missing'}`);
  if (!t.operations.includes('upsert')) problems.push('every target adds or updates (upsert)');
  if (t.groups?.delivery === 'inline' && !t.groups.offline) problems.push('groups sent inline need an offline directory');
  if (!(TARGET_NAMES as readonly string[]).includes(t.name)) problems.push(`"${t.name}" is not in src/targets/names.ts`);
  if (problems.length > 0) throw new InternalError(`target ${t.name}: ${problems.join('; ')}`);
  return m;
}

/** By name; the first is the default target. */
export const TARGETS: Record<string, Target> = Object.fromEntries(MODULES.map((m) => [m.target.name, m.target]));

export function createEmulators(settings: EmulatorSettings = {}): Promise<Emulator[]> {
  return Promise.all(MODULES.map((m) => m.createEmulator(settings)));
}

/** Every secret any target knows of in this environment, so no message can print one whatever the target. */
export function allSecrets(env: Record<string, string | undefined>): string[] {
  return Object.values(TARGETS).flatMap((t) => t.secrets(env));
}
