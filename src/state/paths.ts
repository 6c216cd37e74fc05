/** Where the local state lives unless --state or SYNC_SUPPORTERS_STATE say otherwise (no SQLite loaded to read it). */
export const DEFAULT_STATE_PATH = '.sync-supporters/state.db';
