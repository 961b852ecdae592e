// Wire constants of UML's management console, as in arch/um/include/shared/mconsole.h (kernel 6.1).

/** First word of every request and notification; little-endian on the wire (bytes be ba fe ca). */
export const MCONSOLE_MAGIC = 0xcafebabe;
/** The only protocol version the 6.1 driver serves; any other version gets an error reply first. */
export const MCONSOLE_VERSION = 2;
/** Size of the data field of requests, replies and notifications. */
export const MCONSOLE_MAX_DATA = 512;
/** A request's text must be shorter than the data field: the kernel writes data[len] = 0. */
export const MCONSOLE_MAX_COMMAND = MCONSOLE_MAX_DATA - 1;

/** magic, version, len. */
export const REQUEST_HEADER_BYTES = 12;
/** err, more, len. */
export const REPLY_HEADER_BYTES = 12;
/** magic, version, type, len. */
export const NOTIFY_HEADER_BYTES = 16;

/** Notification types (enum mconsole_notify_type). */
export const NOTIFY = {
  /** The mconsole socket is up; data is its path with a NUL. Sent before the root fs is mounted. */
  SOCKET: 0,
  /** The kernel panicked; data is the panic message with a NUL. */
  PANIC: 1,
  /** uml_watchdog saw the guest stop pinging /dev/watchdog; no data. */
  HANG: 2,
  /** The guest wrote to /proc/mconsole; data is exactly the bytes written. */
  USER_NOTIFY: 3,
} as const;

export type NotifyType = (typeof NOTIFY)[keyof typeof NOTIFY];

export const NOTIFY_TYPE_NAMES: Readonly<Record<NotifyType, string>> = {
  0: 'socket',
  1: 'panic',
  2: 'hang',
  3: 'user',
};

/**
 * The raw, header-less text the kernel sends when a request's magic is wrong (a "version 0" client).
 * decodeReply recognises it rather than misreading its first bytes as err/more/len.
 */
export const V0_REJECTION = 'ERR Version 0 mconsole clients are not supported by this driver';
