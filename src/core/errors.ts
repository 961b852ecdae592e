// The one error type of umlkit: a stable code, a message that quotes the bad value, and a hint.
// Codes are listed with their meaning and usual fix in docs/errors.md (a test keeps the two in step).

/** Stable error codes. Never rename one: scripts and users match on them. */
export const ERROR_CODES = [
  'USAGE',
  'INVALID_SIZE',
  'INVALID_DISK_SPEC',
  'INVALID_ENV',
  'INVALID_NAME',
  'PATH_UNSUPPORTED',
  'KERNEL_NOT_FOUND',
  'KERNEL_NOT_UML',
  'KERNEL_INSTALL_FAILED',
  'IMAGE_NOT_FOUND',
  'IMAGE_UNREADABLE',
  'IMAGE_BUILD_FAILED',
  'DISK_NOT_FOUND',
  'DISK_UNREADABLE',
  'DISK_EXISTS',
  'DISK_IN_USE',
  'DISK_CREATE_FAILED',
  'DISK_READ_FAILED',
  'TOOL_MISSING',
  'HOST_UNSUITABLE',
  'GUEST_PANIC',
  'BOOT_TIMEOUT',
  'KERNEL_EXITED',
  'RUN_TIMEOUT',
  'AGENT_PROTOCOL',
  'INTERRUPTED',
  'COW_INVALID',
  'COW_MISMATCH',
  'COW_IN_USE',
  'COW_IO',
  'COW_BASE_MISSING',
  'COW_MERGE_INCOMPLETE',
  'MCONSOLE_UNREACHABLE',
  'MCONSOLE_FAILED',
  'STATE_CORRUPT',
  'MACHINE_NOT_FOUND',
  'MACHINE_EXISTS',
  'WRONG_STATE',
  'SUPERVISOR_UNREACHABLE',
  'START_FAILED',
  'SANDBOX_UNAVAILABLE',
  'INVALID_SHARE_SPEC',
  'SHARE_UNUSABLE',
  'MEMORY_TOO_LARGE',
  'DISK_DUPLICATE',
  'INTERNAL',
  'MCONSOLE_PROTOCOL',
  'SOCKET_PATH_TOO_LONG',
  'NATIVE_ADDON_MISSING',
  'INVALID_NET_SPEC',
  'INVALID_PORT_SPEC',
  'INVALID_SUBNET',
  'INVALID_IMPAIRMENT',
  'NET_NOT_FOUND',
  'NET_EXISTS',
  'NET_IN_USE',
  'NET_DOWN',
  'NET_FULL',
  'NET_TRANSPORT_UNSUPPORTED',
  'UPLINK_FAILED',
  'KERNEL_TOOLCHAIN_MISSING',
  'KERNEL_SOURCE_NOT_FOUND',
  'KERNEL_PATCH_FAILED',
  'KERNEL_CONFIG_MISMATCH',
  'KERNEL_BUILD_FAILED',
  'KERNEL_IN_USE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One validation problem; `path` names the field or argument. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export interface UmlErrorOptions {
  readonly cause?: unknown;
  readonly hint?: string;
  readonly issues?: readonly Issue[];
  /** Extra evidence shown before the hint, e.g. the console's last lines. */
  readonly details?: string;
  /** Exit code the CLI should use; 2 for usage errors, 1 otherwise. */
  readonly exitCode?: number;
}

export class UmlError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly issues: readonly Issue[];
  readonly details: string | undefined;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options: UmlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.issues = options.issues ?? [];
    this.details = options.details;
    this.exitCode = options.exitCode ?? (USAGE_CODES.has(code) ? 2 : 1);
  }
}
UmlError.prototype.name = 'UmlError';

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_NET_SPEC',
  'INVALID_PORT_SPEC',
  'INVALID_SUBNET',
  'INVALID_IMPAIRMENT',
  'USAGE',
  'INVALID_SIZE',
  'INVALID_DISK_SPEC',
  'INVALID_ENV',
  'INVALID_NAME',
  'INVALID_SHARE_SPEC',
]);

export const isUmlError = (e: unknown, code?: ErrorCode): e is UmlError =>
  e instanceof UmlError && (code === undefined || e.code === code);

/** Quote a user value for a message: backticks, control characters made visible. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  return `\`${text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}\``;
}
