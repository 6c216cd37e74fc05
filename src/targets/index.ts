/** The list of targets and their emulators: the one place that knows every target folder. */
import type { Target } from '../core/types.js';
import type { Emulator } from '../sandbox/emulator-types.js';
import { createLuminateEmulator } from './luminate/emulator.js';
import { luminateTarget } from './luminate/index.js';
import { createSalsaEmulator } from './salsa/emulator.js';
import { salsaTarget } from './salsa/index.js';

export const TARGETS: Record<string, Target> = {
  salsa: salsaTarget,
  luminate: luminateTarget,
};

export interface EmulatorSettings {
  salsaRateLimit?: number;
  salsaMaxBatchSize?: number;
}

export function createEmulators(settings: EmulatorSettings = {}): Emulator[] {
  return [createSalsaEmulator({ rateLimit: settings.salsaRateLimit, maxBatchSize: settings.salsaMaxBatchSize }), createLuminateEmulator()];
}
