// Writes a machine's compiled seccomp allow-list where bwrap can read it (`--seccomp FD`).
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowListProgram, encodeBpf, type SeccompDefault } from '../../core/sandbox/seccomp-bpf.ts';
import { UML_REFUSED_SYSCALLS, UML_SYSCALLS } from '../../core/sandbox/uml-syscalls.ts';

/**
 * `UMLKIT_SECCOMP=log` logs (instead of killing) calls outside the list: the way to extend it for a
 * new kernel (the kernel log shows `audit: type=1326 ... syscall=N`). Anything else: kill, except for a
 * kernel in its own seccomp mode (`seccomp=on`, UML 6.16+): there every guest system call reaches this
 * filter too, and the strictest action of all filters wins, so KILL would end the machine at the guest's
 * first call outside the list. TRAP ties with UML's own filter, whose SIGSYS hands the call to the UML
 * kernel: an unlisted call is still never executed on the host.
 */
export function seccompDefault(
  env: Readonly<Record<string, string | undefined>>,
  kernelSeccompMode = false,
): SeccompDefault {
  if (env.UMLKIT_SECCOMP === 'log') return 'log';
  return kernelSeccompMode ? 'trap' : 'kill';
}

/** The program in a file in `dir` (0600), opened for reading; the caller passes the fd and closes it. */
export function openSeccompProgram(dir: string, onOther: SeccompDefault, inet = false): number {
  const file = join(dir, 'seccomp.bpf');
  writeFileSync(file, encodeBpf(allowListProgram(UML_SYSCALLS, onOther, inet, UML_REFUSED_SYSCALLS)), {
    mode: 0o600,
  });
  return openSync(file, 'r');
}

export const closeFd = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {}
};
