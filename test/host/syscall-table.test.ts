// The seccomp compiler's x86_64 syscall numbers must be the kernel's (asm/unistd_64.h, when installed).
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { X86_64_SYSCALLS } from '../../src/core/sandbox/x86_64-syscalls.ts';

const HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

it.skipIf(!existsSync(HEADER))('matches asm/unistd_64.h', () => {
  const fromHeader: Record<string, number> = {};
  for (const m of readFileSync(HEADER, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)) {
    fromHeader[m[1] as string] = Number(m[2]);
  }
  for (const [name, nr] of Object.entries(X86_64_SYSCALLS))
    expect([name, fromHeader[name]]).toEqual([name, nr]);
});
