import { describe, expect, it } from 'vitest';
import { allowListProgram, encodeBpf, SECCOMP_RET } from './seccomp-bpf.ts';
import { UML_SYSCALLS } from './uml-syscalls.ts';

/** A classic-BPF interpreter for the few opcodes the compiler emits: runs the program on seccomp_data. */
function run(program: ReturnType<typeof allowListProgram>, nr: number, arch = 0xc000003e, arg0 = 0): number {
  const data = new DataView(new ArrayBuffer(64));
  data.setUint32(0, nr, true);
  data.setUint32(4, arch, true);
  data.setUint32(16, arg0, true);
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const i = program[pc] as (typeof program)[number];
    if (i.code === 0x20) a = data.getUint32(i.k, true);
    else if (i.code === 0x15) pc += a === i.k ? i.jt : i.jf;
    else if (i.code === 0x35) pc += a >= i.k ? i.jt : i.jf;
    else if (i.code === 0x06) return i.k;
    else throw new Error(`opcode ${i.code}`);
  }
  throw new Error('fell off the program');
}

describe('allowListProgram', () => {
  const p = allowListProgram(['read', 'write', 'socket'], 'kill');

  it('renders the golden program', () => {
    expect(p).toEqual([
      { code: 0x20, jt: 0, jf: 0, k: 4 },
      { code: 0x15, jt: 0, jf: 9, k: 0xc000003e },
      { code: 0x20, jt: 0, jf: 0, k: 0 },
      { code: 0x35, jt: 7, jf: 0, k: 0x40000000 },
      { code: 0x15, jt: 0, jf: 2, k: 41 },
      { code: 0x20, jt: 0, jf: 0, k: 16 },
      { code: 0x15, jt: 3, jf: 5, k: 1 },
      { code: 0x15, jt: 2, jf: 0, k: 0 },
      { code: 0x15, jt: 1, jf: 0, k: 1 },
      { code: 0x06, jt: 0, jf: 0, k: SECCOMP_RET.killProcess },
      { code: 0x06, jt: 0, jf: 0, k: SECCOMP_RET.allow },
      { code: 0x06, jt: 0, jf: 0, k: SECCOMP_RET.killProcess },
      { code: 0x06, jt: 0, jf: 0, k: SECCOMP_RET.errnoEperm },
    ]);
    expect(encodeBpf(p).length).toBe(p.length * 8);
  });

  it('allows the listed calls, kills others, the x32 ABI and other architectures', () => {
    expect(run(p, 0)).toBe(SECCOMP_RET.allow);
    expect(run(p, 1)).toBe(SECCOMP_RET.allow);
    expect(run(p, 165)).toBe(SECCOMP_RET.killProcess); // mount
    expect(run(p, 0x40000000)).toBe(SECCOMP_RET.killProcess); // x32 read
    expect(run(p, 0, 0x40000003)).toBe(SECCOMP_RET.killProcess); // i386
  });

  it('allows socket() for AF_UNIX only', () => {
    expect(run(p, 41, 0xc000003e, 1)).toBe(SECCOMP_RET.allow);
    expect(run(p, 41, 0xc000003e, 2)).toBe(SECCOMP_RET.errnoEperm);
    expect(run(allowListProgram(['read'], 'kill'), 41, 0xc000003e, 1)).toBe(SECCOMP_RET.killProcess);
  });

  it('keeps the dangerous calls out of the UML list', () => {
    for (const name of [
      'mount',
      'umount2',
      'pivot_root',
      'unshare',
      'setns',
      'bpf',
      'keyctl',
      'init_module',
      'finit_module',
      'kexec_load',
      'perf_event_open',
      'userfaultfd',
      'io_uring_setup',
      'process_vm_writev',
      'chroot',
      'setuid',
    ]) {
      expect(UML_SYSCALLS).not.toContain(name);
    }
    const full = allowListProgram(UML_SYSCALLS, 'kill');
    expect(run(full, 101)).toBe(SECCOMP_RET.allow); // ptrace: UML traces its own processes
    expect(run(full, 165)).toBe(SECCOMP_RET.killProcess);
  });

  it('traps (SIGSYS) instead of killing for a kernel in its own seccomp mode', () => {
    const q = allowListProgram(['read'], 'trap');
    expect(run(q, 0)).toBe(SECCOMP_RET.allow);
    expect(run(q, 165)).toBe(SECCOMP_RET.trap);
  });

  it('refuses the listed calls with EPERM instead of killing', () => {
    const q = allowListProgram(['read'], 'kill', false, ['mknodat']);
    expect(run(q, 259)).toBe(SECCOMP_RET.errnoEperm);
    expect(run(q, 0)).toBe(SECCOMP_RET.allow);
    expect(run(q, 165)).toBe(SECCOMP_RET.killProcess);
  });

  it('logs instead of killing in discovery mode', () => {
    expect(run(allowListProgram(['read'], 'log'), 165)).toBe(SECCOMP_RET.log);
  });
});
