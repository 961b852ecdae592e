// `umlkit net capture NAME [--machine M] -w FILE|-`: the switch's frames as pcap, rootless (the switch
// copies them; no packet socket needed). Runs until Ctrl-C, --count frames or --duration.
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { UmlError } from '../../core/errors.ts';
import { parseDurationMs } from '../../core/units.ts';
import { netFiles } from '../../host/net/net-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import { openSwitch, replyError } from '../../machine/net-client.ts';
import { inspectNet } from '../../machine/net-lifecycle.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'net capture',
  summary: "write a network's traffic as pcap (for tcpdump, tshark, Wireshark)",
  usage: 'umlkit net capture NAME [--machine M] -w FILE|- [--count N] [--duration S]',
  description:
    'Every frame the switch forwards (or only those from/to machine M), from now on. `-w -` writes to stdout: `umlkit net capture lab -w - | tshark -r -`.',
  options: [
    {
      name: 'write',
      short: 'w',
      type: 'string',
      value: 'FILE|-',
      description: 'the pcap file, or - for stdout',
    },
    { name: 'machine', type: 'string', value: 'M', description: 'only frames from or to this machine' },
    { name: 'count', short: 'c', type: 'string', value: 'N', description: 'stop after N frames' },
    { name: 'duration', type: 'string', value: 'S', description: 'stop after S seconds' },
  ],
  examples: ['umlkit net capture lab -w lab.pcap', 'umlkit net capture lab -w - | tshark -r - -Y icmp'],
  async run(args, ctx) {
    const [name] = args.positionals;
    const target = stringOption(args.values, 'write');
    if (!name || !target)
      throw new UmlError('USAGE', 'give the network name and -w FILE (or -w -)', {
        hint: 'umlkit net capture NAME -w lab.pcap',
      });
    const countText = stringOption(args.values, 'count');
    const count = countText === undefined ? undefined : Number(countText);
    if (count !== undefined && !(Number.isInteger(count) && count > 0))
      throw new UmlError('USAGE', `--count ${JSON.stringify(countText)} is not a positive integer`, {
        hint: 'e.g. --count 10',
      });
    const durationText = stringOption(args.values, 'duration');
    const durationMs = durationText ? parseDurationMs(durationText, '--duration') : undefined;
    const paths = resolvePaths(ctx.env);
    const info = inspectNet(paths, name);
    if (info.status !== 'running')
      throw new UmlError('NET_DOWN', `network ${JSON.stringify(name)} is ${info.status}`, {
        hint: `umlkit net start ${name}`,
      });
    const socket = await openSwitch(netFiles(paths, name).socket, name);
    const machine = stringOption(args.values, 'machine');
    socket.write(`${JSON.stringify({ op: 'capture', ...(machine ? { machine } : {}) })}\n`);
    const out: Writable =
      target === '-' ? ctx.stdout : createWriteStream(resolve(ctx.cwd, target), { mode: 0o600 });
    let head = Buffer.alloc(0);
    let started = false;
    let frames = 0;
    let pending = Buffer.alloc(0);
    const finished = new Promise<number>((resolveDone, reject) => {
      const stop = (): void => {
        socket.destroy();
      };
      const timer = durationMs ? setTimeout(stop, durationMs) : undefined;
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      socket.on('data', (chunk: Buffer) => {
        if (!started) {
          head = Buffer.concat([head, chunk]);
          const nl = head.indexOf(10);
          if (nl < 0) return;
          const reply = JSON.parse(head.subarray(0, nl).toString());
          if (!reply.ok) {
            reject(replyError(reply));
            return;
          }
          started = true;
          chunk = head.subarray(nl + 1);
          // The 24-byte pcap header comes first; count records after it.
          out.write(chunk.subarray(0, 24));
          chunk = chunk.subarray(24);
        }
        if (count === undefined) {
          out.write(chunk);
          return;
        }
        // Whole records only, so --count cuts cleanly.
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 16 && frames < count) {
          const len = 16 + pending.readUInt32LE(8);
          if (pending.length < len) break;
          out.write(pending.subarray(0, len));
          pending = pending.subarray(len);
          frames++;
        }
        if (frames >= count) stop();
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        if (out === ctx.stdout) resolveDone(0);
        else out.end(() => resolveDone(0));
      });
    });
    return finished;
  },
};
