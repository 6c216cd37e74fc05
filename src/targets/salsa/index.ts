import { createHash } from 'node:crypto';
import type { Target } from '../../core/types.js';
import type { TargetModule } from '../../sandbox/emulator-types.js';
import { DEFAULT_SALSA_URL, SALSA_FIELDS } from './fields.js';
import { canClearSalsa, describeSalsaMapping, identifySalsa, prepareSalsa, restoreSalsa } from './mapper.js';
import { flatSupporter } from './flat.js';

const NAMES = new Set(SALSA_FIELDS.map((f) => f.name));

export const salsaTarget: Target = {
  name: 'salsa',
  displayName: 'Salsa Engage',
  nouns: { one: 'supporter', many: 'supporters', identity: { id: 'supporterId', email: 'email', externalId: 'external id' } },
  operations: ['upsert', 'delete'],
  fields: SALSA_FIELDS,
  keyFields: ['email', 'supporterId'],
  emailField: 'email',
  describeSecondCalls: (status) => `(email status ${status} where the row has none; a held-back partial address). An email status column in the file saves these calls`,
  isKnownField: (name) => NAMES.has(name),
  customFieldList: true,
  optInValues: { yes: 'OPT_IN', no: 'OPT_OUT' },
  setsNewRecordStatus: true,
  prepare: prepareSalsa,
  describeMapping: describeSalsaMapping,
  canClear: canClearSalsa,
  identify: identifySalsa,
  // Segments are joined and left by calls of their own after the supporter is written, by its supporterId.
  groups: { noun: { one: 'segment', many: 'segments' }, delivery: 'calls' },
  deletes: { deleteRow: (ids) => ({ fields: { supporterId: ids.join(' ') }, custom: [] }) },
  missingCredentials: (env) => (env.SALSA_API_TOKEN ? [] : ['SALSA_API_TOKEN']),
  secrets: (env) => [env.SALSA_API_TOKEN ?? ''],
  // One token is one account; only a short hash of it is kept, never the token.
  accountId: (env) => `${env.SALSA_API_URL || DEFAULT_SALSA_URL}#${createHash('sha256').update(env.SALSA_API_TOKEN ?? '').digest('hex').slice(0, 12)}`,
  withRemoteId: (payload, remoteId) => ({ ...(payload as object), supporterId: remoteId }),
  readBack: { givesModifiedTime: true, flatten: (payload) => flatSupporter(payload as Record<string, unknown>, true), restoreRow: restoreSalsa },
  // The HTTP client (undici) is loaded when a run connects, not for --help or validate.
  connect: async (options) => (await import('./client.js')).connectSalsa(options),
};

export const salsa: TargetModule = {
  target: salsaTarget,
  createEmulator: async (settings) => (await import('./emulator.js')).createSalsaEmulator({ rateLimit: settings.rateLimit, maxBatchSize: settings.maxBatchSize, notCrmSegments: ['All Supporters'] }),
};
