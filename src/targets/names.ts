/**
 * The targets' names, for the CLI's help text, without loading any target (start-up: `--help` and `--version` load
 * no target code). A test checks it against the registry (src/targets/index.ts); the first is the default.
 */
export const TARGET_NAMES = ['salsa', 'luminate'] as const;
