// `umlkit run`: one command in a fresh machine, with its streams, exit code and (with -it) a terminal.
import { mergeEnv, parseEnvSpec } from '../../core/env-spec.ts';
import { UmlError } from '../../core/errors.ts';
import { parseDurationMs } from '../../core/units.ts';
import { resolveKernel } from '../../host/kernel.ts';
import { resolvePaths } from '../../host/paths.ts';
import { trace } from '../../host/run-trace.ts';
import { runMachine } from '../../machine/run.ts';
import type { Command } from '../command.ts';
import { GDB_OPTIONS, gdbMode } from '../gdb-mode.ts';
import { MACHINE_OPTIONS, readMachineOptions } from '../machine-options.ts';
import { NET_OPTIONS } from '../net-option-specs.ts';
import { listOption, stringOption } from '../parse-args.ts';
import { releaseStdin } from '../release-stdin.ts';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const command: Command = {
  name: 'run',
  summary: 'boot an ephemeral machine, run a command in it, power off',
  usage: 'umlkit run [OPTIONS] [--] CMD [ARGS...]   |   umlkit run -it [OPTIONS] [-- CMD ARGS...]',
  description: [
    'Boots a machine on a copy-on-write overlay of a read-only image (the image is never written),',
    "runs CMD, streams the guest's stdout and stderr to yours separately, forwards stdin, exits with",
    "CMD's exit code (signal N → 128+N, not found → 127) and deletes the overlay. Commands travel over a",
    'dedicated serial line to the umlkit agent, injected at boot. The machine has no network unless',
    '--net or -p gives it NICs (docs/networking.md).',
  ].join('\n'),
  commandAfterPositionals: 0,
  options: [
    ...MACHINE_OPTIONS,
    ...GDB_OPTIONS,
    ...NET_OPTIONS,
    {
      name: 'env',
      short: 'e',
      type: 'string',
      value: 'K=V',
      multiple: true,
      description: 'set a variable in the guest (K alone copies the host value)',
    },
    {
      name: 'workdir',
      short: 'w',
      type: 'string',
      value: 'DIR',
      description: 'working directory in the guest (default /)',
    },
    {
      name: 'timeout',
      type: 'string',
      value: 'S',
      description: 'stop the machine if CMD runs longer than S seconds (exit 124)',
    },
    {
      name: 'keep',
      type: 'boolean',
      description: "keep the overlay with the guest's changes and print where it is",
    },
    {
      name: 'interactive',
      short: 'i',
      type: 'boolean',
      description: 'forward stdin even when it is a terminal',
    },
    {
      name: 'tty',
      short: 't',
      type: 'boolean',
      description: 'give CMD a terminal (with -i: an interactive shell when CMD is omitted)',
    },
  ],
  examples: [
    'umlkit run -- uname -a',
    'echo hello | umlkit run -- tr a-z A-Z',
    'umlkit run --disk data.ext4 -- sh -c "mount /dev/ubdb /mnt && ls /mnt"',
    'umlkit run -it',
  ],
  async run(args, ctx) {
    const v = args.values;
    const tty = v.tty === true;
    const interactive = v.interactive === true;
    const argv = args.rest.length > 0 ? [...args.rest] : tty && interactive ? ['/bin/sh', '-l'] : [];
    if (argv.length === 0) {
      throw new UmlError('USAGE', 'no command given', {
        hint: 'e.g. `umlkit run -- uname -a`, or `umlkit run -it` for a shell',
      });
    }
    if (tty && !(ctx.stdin.isTTY && ctx.stdout.isTTY)) {
      throw new UmlError('USAGE', '-t needs a terminal on stdin and stdout', {
        hint: 'drop -t when piping; stdin is forwarded anyway',
      });
    }
    const envEntries = listOption(v, 'env').map((e) => {
      const entry = parseEnvSpec(e);
      return { name: entry.name, value: entry.value ?? ctx.env[entry.name] ?? '' };
    });
    const timeout = stringOption(v, 'timeout');
    const timeoutMs = timeout ? parseDurationMs(timeout, '--timeout') : undefined;
    trace('run command loaded');
    const paths = resolvePaths(ctx.env);
    const { imagePath, memoryBytes, disks, kernelPath, sandbox, shares } = await readMachineOptions(
      v,
      paths,
      ctx,
    );
    const kernel = resolveKernel(kernelPath, paths, ctx.env);
    trace('kernel resolved');
    const wantsNet = listOption(v, 'net').length > 0 || listOption(v, 'publish').length > 0;
    const { nics, forwards } = wantsNet
      ? (await import('../net-options.ts')).readNetOptions(v, paths)
      : { nics: [], forwards: [] };
    const defaults: Record<string, string> = {
      PATH: DEFAULT_PATH,
      HOME: '/root',
      TERM: tty ? (ctx.env.TERM ?? 'xterm') : 'dumb',
    };
    const abort = new AbortController();
    // What only some runs use is loaded only by them (a plain run loads no gdb or terminal code).
    const gdb = await gdbMode(v, paths, ctx, kernel.path);
    const terminal = tty ? (await import('../terminal.ts')).attachTerminal(ctx) : undefined;
    // Under --gdb, Ctrl-C belongs to gdb (it stops the kernel at a prompt); the run goes on.
    const onSignal = (): void => (gdb ? undefined : abort.abort());
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    try {
      const bootTimeoutMs = parseDurationMs(ctx.env.UMLKIT_BOOT_TIMEOUT ?? '60', 'UMLKIT_BOOT_TIMEOUT');
      const forwardStdin = !gdb && (interactive || !ctx.stdin.isTTY);
      const result = await runMachine({
        kernel,
        imagePath,
        memoryBytes,
        disks,
        argv,
        env: mergeEnv(defaults, envEntries),
        workdir: stringOption(v, 'workdir') ?? '/',
        tty,
        ...(terminal ? { rows: terminal.rows, cols: terminal.cols } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
        bootTimeoutMs,
        keep: v.keep === true,
        sandbox,
        shares,
        ...(forwardStdin ? { stdin: ctx.stdin } : {}),
        stdout: ctx.stdout,
        stderr: tty ? ctx.stdout : ctx.stderr,
        paths,
        ...(nics.length ? { nics, forwards, netEnv: ctx.env } : {}),
        signal: abort.signal,
        ...(gdb ? gdb.request : {}),
        ...(terminal ? { onSession: terminal.bind } : {}),
      });
      if (result.keptOverlay) ctx.stderr.write(`umlkit: kept the overlay: ${result.keptOverlay}\n`);
      trace('run returned');
      return result.exitCode;
    } finally {
      await gdb?.finish();
      terminal?.restore();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      releaseStdin(ctx);
    }
  },
};
