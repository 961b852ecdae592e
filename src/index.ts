// The umlkit library: everything not re-exported here is internal.

export type { ErrorCode, Issue } from './core/errors.ts';
export { isUmlError, UmlError } from './core/errors.ts';
