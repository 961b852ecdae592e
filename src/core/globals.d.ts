// The few platform globals the pure core may use. They compute, they do no I/O (WHATWG Encoding).
// Declared here because src/core is compiled without Node's or the DOM's types on purpose.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
