// Turns a kernel that died or never came up into an error carrying the console's last lines.
import { UmlError } from '../core/errors.ts';
import type { KernelExit, KernelProcess } from '../host/kernel-process.ts';

export function bootFailureError(
  kind: 'exited' | 'timeout' | 'died',
  exit: KernelExit,
  kernel: KernelProcess,
  bootTimeoutMs: number,
  logPath: string,
): UmlError {
  const tail = kernel.consoleTail(15);
  const details = ['--- last console lines ---', ...tail, `--- full console log: ${logPath} ---`].join('\n');
  const panic = kernel.panicMessage();
  if (panic || exit.signal === 'SIGABRT') {
    return new UmlError('GUEST_PANIC', `the guest kernel panicked${panic ? `: ${panic}` : ''}`, {
      details,
      hint: 'see the console lines above; a panic at boot usually means a bad image or too little memory (--mem)',
    });
  }
  if (kind === 'timeout') {
    return new UmlError('BOOT_TIMEOUT', `the guest did not come up within ${bootTimeoutMs / 1000} s`, {
      details,
      hint: 'the host may be overloaded; raise UMLKIT_BOOT_TIMEOUT (seconds), or check the console log',
    });
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return new UmlError(
    'KERNEL_EXITED',
    `the kernel ${how} ${kind === 'died' ? 'while the command ran' : 'before the guest was ready'}`,
    {
      details,
      hint: 'run `umlkit doctor` to check the host; the console lines above usually say why',
    },
  );
}
