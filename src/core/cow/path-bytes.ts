// Backing paths as bytes: UTF-8 both ways, without assuming a path is valid UTF-8 (Linux paths need not be).

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** Decode a path for display and for string-based file APIs; `exact` is false when bytes were replaced. */
export function decodePath(bytes: Uint8Array): { text: string; exact: boolean } {
  try {
    return { text: strict.decode(bytes), exact: true };
  } catch {
    return { text: lenient.decode(bytes), exact: false };
  }
}

export function encodePath(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Index of the first NUL in `bytes[start, end)`, or -1: a path field must contain one. */
export function findNul(bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (bytes[i] === 0) return i;
  return -1;
}
