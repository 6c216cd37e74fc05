/** The list of targets: the one place that knows every target folder. A new target is one more line here. */
import type { Target } from '../core/types.js';
import type { Emulator, EmulatorSettings, TargetModule } from '../sandbox/emulator-types.js';

export type { EmulatorSettings, TargetModule } from '../sandbox/emulator-types.js';
import { luminate } from './luminate/index.js';
import { salsa } from './salsa/index.js';

const MODULES: TargetModule[] = [salsa, luminate];

/** By name; the first is the default target. */
export const TARGETS: Record<string, Target> = Object.fromEntries(MODULES.map((m) => [m.target.name, m.target]));

export function createEmulators(settings: EmulatorSettings = {}): Promise<Emulator[]> {
  return Promise.all(MODULES.map((m) => m.createEmulator(settings)));
}

/** Every secret any target knows of in this environment, so no message can print one whatever the target. */
export function allSecrets(env: Record<string, string | undefined>): string[] {
  return Object.values(TARGETS).flatMap((t) => t.secrets(env));
}
