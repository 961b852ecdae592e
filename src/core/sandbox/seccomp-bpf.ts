// Compiles a system-call allow-list into a classic-BPF seccomp program (the bytes `bwrap --seccomp FD`
// and prctl(PR_SET_SECCOMP) take). Pure, so the program is golden-tested instruction by instruction.
import { quote, UmlError } from '../errors.ts';
import { X86_64_SYSCALLS } from './x86_64-syscalls.ts';

/** What a call outside the list gets: kill the whole process, log it (allow-list discovery), or EPERM. */
export type SeccompDefault = 'kill' | 'log' | 'errno' | 'trap';

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const AUDIT_ARCH_X86_64 = 0xc000003e;
/** x32 ABI calls carry this bit in nr; they would bypass a list written for x86_64 numbers. */
const X32_SYSCALL_BIT = 0x40000000;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low half of args[0] (little-endian u64 at offset 16). */
const OFFSET_ARG0 = 16;
const AF_UNIX = 1;
/** Machines with NICs: the vector driver's L2TPv3 sockets are UDP on 127.0.0.1 (docs/networking.md). */
const AF_INET = 2;
export const SECCOMP_RET = {
  killProcess: 0x80000000,
  allow: 0x7fff0000,
  log: 0x7ffc0000,
  errnoEperm: 0x00050000 | 1,
  trap: 0x00030000,
} as const;

export interface BpfInsn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/**
 * The program as instructions. Order of `names` is kept: put the hot calls first (linear scan).
 * `socket` is special: allowed for AF_UNIX only (EPERM otherwise), so no host network is reachable
 * even where a network namespace is not.
 */
export function allowListProgram(
  names: readonly string[],
  onOther: SeccompDefault,
  inet = false,
  /** Calls refused with EPERM instead (the caller copes; killing would only end its own machine). */
  refused: readonly string[] = [],
): BpfInsn[] {
  const families = inet ? [AF_UNIX, AF_INET] : [AF_UNIX];
  const toNumber = (name: string): number => {
    const nr = X86_64_SYSCALLS[name];
    if (nr === undefined) throw new UmlError('INTERNAL', `unknown x86_64 system call ${quote(name)}`);
    return nr;
  };
  const refusedNrs = refused.map(toNumber);
  const numbers: number[] = [];
  const socketNr = X86_64_SYSCALLS.socket as number;
  for (const name of names) {
    if (name === 'socket') continue;
    const nr = toNumber(name);
    if (!numbers.includes(nr)) numbers.push(nr);
  }
  // Jump offsets are 8-bit: every comparison must reach the ALLOW instruction.
  if (numbers.length + refusedNrs.length > 250) {
    throw new UmlError('INTERNAL', `${numbers.length + refusedNrs.length} system calls exceed 250`);
  }
  const n = numbers.length + refusedNrs.length;
  const first = 6 + families.length;
  const allowAt = first + n + 1;
  const killAt = first + n + 2;
  const epermAt = first + n + 3;
  const socket = names.includes('socket');
  const other =
    onOther === 'kill'
      ? SECCOMP_RET.killProcess
      : onOther === 'log'
        ? SECCOMP_RET.log
        : onOther === 'trap'
          ? SECCOMP_RET.trap
          : SECCOMP_RET.errnoEperm;
  return [
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARCH },
    { code: JEQ_K, jt: 0, jf: killAt - 2, k: AUDIT_ARCH_X86_64 },
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_NR },
    { code: JGE_K, jt: killAt - 4, jf: 0, k: X32_SYSCALL_BIT },
    // socket(AF_UNIX, ...) only; without `socket` in the list the comparison never matches.
    { code: JEQ_K, jt: 0, jf: 1 + families.length, k: socket ? socketNr : 0xffffffff },
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARG0 },
    ...families.map((family, j) => ({
      code: JEQ_K,
      jt: allowAt - (6 + j) - 1,
      jf: j === families.length - 1 ? epermAt - (6 + j) - 1 : 0,
      k: family,
    })),
    ...numbers.map((nr, i) => ({ code: JEQ_K, jt: allowAt - (first + i) - 1, jf: 0, k: nr })),
    ...refusedNrs.map((nr, i) => ({
      code: JEQ_K,
      jt: epermAt - (first + numbers.length + i) - 1,
      jf: 0,
      k: nr,
    })),
    { code: RET_K, jt: 0, jf: 0, k: other },
    { code: RET_K, jt: 0, jf: 0, k: SECCOMP_RET.allow },
    { code: RET_K, jt: 0, jf: 0, k: SECCOMP_RET.killProcess },
    { code: RET_K, jt: 0, jf: 0, k: SECCOMP_RET.errnoEperm },
  ];
}

/** struct sock_filter[] in host (little-endian) byte order: u16 code, u8 jt, u8 jf, u32 k. */
export function encodeBpf(program: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k, true);
  });
  return out;
}
