import type { Target } from '../../core/types.js';
import type { TargetModule } from '../../sandbox/emulator-types.js';
import { LUMINATE_FIELDS } from './fields.js';
import { canClearLuminate, checkLuminateFields, isOwnLuminateName, flattenLuminate, identifyLuminate, isLuminateField, luminateGroups, prepareLuminate, restoreLuminate } from './mapper.js';

const NO_DELETE =
  "Luminate Online's Constituent API (SRConsAPI) has no delete method: deletion exists only in the separate SOAP API " +
  '(operation Delete) or in the Luminate admin UI. Nothing was sent. To remove people from mailings, import them with ' +
  'email.accepts_email=false instead.';

const REQUIRED = ['LUMINATE_API_URL', 'LUMINATE_API_KEY', 'LUMINATE_LOGIN_NAME', 'LUMINATE_LOGIN_PASSWORD'];

export const luminateTarget: Target = {
  name: 'luminate',
  displayName: 'Luminate Online',
  nouns: { one: 'constituent', many: 'constituents', identity: { id: 'cons_id', email: 'email', externalId: 'member_id' } },
  operations: ['upsert'],
  unsupportedReason: { delete: NO_DELETE },
  fields: LUMINATE_FIELDS,
  keyFields: ['primary_email', 'cons_id', 'member_id'],
  emailField: 'primary_email',
  describeSecondCalls: () => '(a partial address, held back so that it could not be laid over a stored one). A whole address in the file saves these calls',
  isKnownField: isLuminateField,
  isOwnFieldName: isOwnLuminateName,
  optInValues: { yes: 'true', no: 'false' },
  prepare: prepareLuminate,
  checkFields: checkLuminateFields,
  canClear: canClearLuminate,
  // Groups and interests go in the row's own createOrUpdate (add_group_ids, remove_interest_ids…), named by id.
  groups: { noun: { one: 'group', many: 'groups' }, delivery: 'inline', offline: luminateGroups },
  missingCredentials: (env) => REQUIRED.filter((k) => !env[k]),
  secrets: (env) => [env.LUMINATE_API_KEY ?? '', env.LUMINATE_LOGIN_PASSWORD ?? ''],
  accountId: (env) => `${env.LUMINATE_API_URL ?? ''}#${env.LUMINATE_LOGIN_NAME ?? ''}`,
  withRemoteId: (payload, remoteId) => ({ ...(payload as Record<string, string>), cons_id: remoteId }),
  identify: identifyLuminate,
  readBack: { flatten: flattenLuminate, restoreRow: restoreLuminate },
  // The HTTP client (undici) is loaded when a run connects, not for --help or validate.
  connect: async (options) => (await import('./client.js')).connectLuminate(options),
};

export const luminate: TargetModule = { target: luminateTarget, createEmulator: async () => (await import('./emulator.js')).createLuminateEmulator() };
