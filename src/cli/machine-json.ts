// The versioned JSON shape of a machine for `ls --json` and `inspect --json` (docs/machines.md).
import type { MachineInfo } from '../machine/lifecycle.ts';

export function machineJson(m: MachineInfo): Record<string, unknown> {
  return {
    name: m.name,
    status: m.status,
    reason: m.reason ?? null,
    problems: m.problems,
    image: m.spec?.imagePath ?? null,
    memoryBytes: m.spec?.memoryBytes ?? null,
    disks: m.spec?.disks ?? [],
    kernel: m.state?.kernelPath ?? m.spec?.kernelPath ?? null,
    kernelVersion: m.state?.kernelVersion ?? null,
    boots: m.state?.boots ?? 0,
    startedAt: m.state?.startedAt ?? null,
    readyAt: m.state?.readyAt ?? null,
    supervisorPid: m.state?.supervisor.pid ?? null,
    kernelPid: m.state?.kernel?.pid ?? null,
    exit: m.state?.exit ?? null,
    overlay: m.files.overlay,
    overlayBytesUsed: m.overlayBytesUsed ?? null,
    consoleLog: m.files.console,
    // What confines the kernel: recorded at the last start (state), else what the next start will do.
    sandbox: m.state?.sandbox ?? { enabled: m.spec?.sandbox !== false, layers: {} },
    shares: m.spec?.shares ?? [],
    limits: {
      memory: m.spec ? 'mem= (guest RAM)' : null,
      cpu: 'unavailable',
      pids: m.state?.sandbox?.limits ? `rlimit nproc ${m.state.sandbox.limits.nproc}` : 'unavailable',
      io: 'unavailable',
    },
    createdAt: m.spec?.createdAt ?? null,
  };
}
