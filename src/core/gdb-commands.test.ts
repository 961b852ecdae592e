import { describe, expect, it } from 'vitest';
import { gdbArgs } from './gdb-commands.ts';

describe('gdb command line for a UML kernel', () => {
  it('passes UML signals silently, attaches, runs the user commands, continues', () => {
    const args = gdbArgs({ kernelPath: '/k/linux', pid: 42, commands: ['break panic'] });
    const ex = args.flatMap((a, i) => (args[i - 1] === '-ex' ? [a] : []));
    const handle = ex.find((c) => c.startsWith('handle '));
    expect(handle).toMatch(/ nostop noprint pass$/);
    for (const s of ['SIGSEGV', 'SIGUSR1', 'SIGIO', 'SIGALRM']) expect(handle?.split(' ')).toContain(s);
    // Handles are set before attaching (a fault right after attach must not stop), user commands before continue.
    expect(ex.indexOf(handle as string)).toBeLessThan(ex.indexOf('attach 42'));
    expect(ex.slice(-2)).toEqual(['break panic', 'continue']);
    expect(args[args.length - 1]).toBe('/k/linux');
  });

  it("loads a debug build's helper script", () => {
    const args = gdbArgs({ kernelPath: '/k/linux', pid: 1, helperScript: '/o/vmlinux-gdb.py' });
    expect(args).toContain('source /o/vmlinux-gdb.py');
    expect(args).toContain('add-auto-load-safe-path /o/vmlinux-gdb.py');
  });
});
