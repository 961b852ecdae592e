// The switch process of one network (`umlkit net run NAME`, started detached by `net create`/`net start`):
// runs the engine, serves the control socket, persists ports and leases so that a restarted switch
// (after a crash, even kill -9) rebinds the same UDP port and data socket name, listens again on each
// daemon port's control socket, and the running kernels talk again.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { isUmlError, quote, UmlError } from '../core/errors.ts';
import { encodeSockaddrUn, fullAbstractName } from '../core/net/daemon-protocol.ts';
import { hostsFromLeases } from '../core/net/hosts.ts';
import { formatImpairment, parseImpairment } from '../core/net/impairment.ts';
import { MAX_SESSION } from '../core/net/l2tpv3.ts';
import { pcapGlobalHeader } from '../core/net/pcap.ts';
import { allocateAddress, formatIpv4, isAssignable, parseIpv4, parseSubnet } from '../core/net/subnet.ts';
import { DaemonControl } from '../host/net/daemon-control.ts';
import { freeUdpPort } from '../host/net/free-port.ts';
import {
  netFiles,
  type PortRecord,
  portDevice,
  portTransport,
  readNetSpec,
  readNetState,
  writeNetState,
} from '../host/net/net-store.ts';
import { SwitchEngine } from '../host/net/switch-engine.ts';
import type { HostPaths } from '../host/paths.ts';
import { currentProcessIdentity, isAlive } from '../host/process-identity.ts';
import type { AttachedPort, SwitchReply, SwitchRequest } from './net-protocol.ts';

const SWEEP_MS = 2000;

export async function runSwitch(name: string, paths: HostPaths): Promise<number> {
  const spec = readNetSpec(paths, name);
  const subnet = parseSubnet(spec.subnet);
  const files = netFiles(paths, name);
  const previous = readNetState(paths, name);
  const me = currentProcessIdentity();
  // Ports of kernels that still run are kept: their kernels were booted with this UDP port and session.
  let ports: PortRecord[] = (previous?.ports ?? []).filter((p) => isAlive(p.owner));
  const leases: Record<string, string> = { ...(previous?.leases ?? {}) };
  // The data socket of daemon ports: the same abstract name after a restart (the kernels send to it).
  const freshName = (): Buffer =>
    Buffer.from(fullAbstractName(`umlkit-net:${name}:${randomBytes(6).toString('hex')}`));
  let daemonName = previous?.daemonName ? Buffer.from(previous.daemonName, 'hex') : freshName();
  const engine = await SwitchEngine.open(previous?.udpPort ?? 0, { daemonName }).catch((e: unknown) => {
    // Held by another socket (not a switch of ours: it was dead): its daemon ports cannot come back.
    if ((e as { code?: string }).code !== 'EADDRINUSE') throw e;
    daemonName = freshName();
    return SwitchEngine.open(previous?.udpPort ?? 0, { daemonName });
  });
  const daemonReply = encodeSockaddrUn(daemonName);
  const controls = new Map<number, DaemonControl>();
  const listenDaemon = async (p: PortRecord): Promise<void> => {
    const ctl = p.daemon?.ctl;
    if (!ctl || !existsSync(dirname(ctl))) return; // the machine's run dir is gone: so is its kernel
    controls.set(
      p.id,
      await DaemonControl.listen(ctl, daemonReply, {
        onRegister: (address) => {
          engine.setDaemonAddress(p.id, address);
          Object.assign(p, { daemon: { ctl, address: address.toString('hex') } });
          save();
        },
        onRefused: (why) => console.error(`port ${p.machine}#${p.nic}: daemon request refused: ${why}`),
      }),
    );
  };
  const removePort = (p: PortRecord): void => {
    engine.removePort(p.id);
    controls.get(p.id)?.close();
    controls.delete(p.id);
  };
  for (const p of ports) engine.addPort(enginePort(p));
  const startedAt = new Date().toISOString();
  const save = (stoppedAt?: string): void =>
    writeNetState(paths, name, {
      version: 1,
      switch: me,
      udpPort: engine.udpPort,
      daemonName: daemonName.toString('hex'),
      startedAt,
      ports,
      leases,
      ...(stoppedAt ? { stoppedAt } : {}),
    });
  save();
  for (const p of ports) await listenDaemon(p);

  const dropPort = (p: PortRecord): void => {
    removePort(p);
    if (p.ephemeral) delete leases[`${p.machine}#${p.nic}`];
  };
  const sweep = setInterval(() => {
    // The network's files were removed under us (e.g. its state dir deleted): nothing left to serve.
    if (!existsSync(files.spec)) {
      finish?.();
      return;
    }
    const dead = ports.filter((p) => !isAlive(p.owner));
    if (dead.length === 0) return;
    for (const p of dead) dropPort(p);
    ports = ports.filter((p) => !dead.includes(p));
    save();
  }, SWEEP_MS);

  const hosts = (): Record<string, string> => hostsFromLeases(leases);

  const lease = (req: { machine: string; nic: number; ip: string }): string | null => {
    const key = `${req.machine}#${req.nic}`;
    let ip: string | null = null;
    if (req.ip !== 'none') {
      const taken = new Set(
        Object.entries(leases)
          .filter(([k]) => k !== key)
          .map(([, v]) => parseIpv4(v) ?? 0),
      );
      if (req.ip !== 'auto') {
        const want = parseIpv4(req.ip) ?? 0;
        if (!isAssignable(subnet, want) || taken.has(want)) {
          throw new UmlError(
            'INVALID_NET_SPEC',
            `address ${quote(req.ip)} is not free on network ${quote(name)} (${spec.subnet})`,
            {
              hint: 'pick another address in the subnet, or use `ip=auto`',
            },
          );
        }
        ip = req.ip;
      } else {
        const kept = leases[key];
        const keptIp = kept === undefined ? undefined : parseIpv4(kept);
        const chosen = keptIp !== undefined && !taken.has(keptIp) ? keptIp : allocateAddress(subnet, taken);
        if (chosen === undefined) {
          throw new UmlError('NET_FULL', `network ${quote(name)} (${spec.subnet}) has no free address`, {
            hint: 'create the network with a larger --subnet, or remove machines from it',
          });
        }
        ip = formatIpv4(chosen);
      }
      leases[key] = ip;
    }
    return ip;
  };

  const attach = async (req: Extract<SwitchRequest, { op: 'attach' }>): Promise<AttachedPort> => {
    // Re-attaching the same NIC (a restart) replaces its old port.
    for (const p of ports.filter((x) => x.machine === req.machine && x.nic === req.nic)) removePort(p);
    ports = ports.filter((x) => !(x.machine === req.machine && x.nic === req.nic));
    const ip = lease(req);
    const used = new Set(ports.map((p) => p.id));
    let id = 1;
    while (used.has(id)) id++;
    // Sessions are unique per port and never reused soon: a late frame of an old port is not misrouted.
    const session = (((Date.now() & 0xffff) << 12) | id) % MAX_SESSION || id;
    const record: PortRecord = {
      id,
      session,
      machine: req.machine,
      nic: req.nic,
      mac: req.mac,
      guestPort: req.daemonCtl ? 0 : await freeUdpPort(),
      ip,
      owner: req.owner,
      ephemeral: req.ephemeral,
      ...(req.daemonCtl ? { daemon: { ctl: req.daemonCtl } } : {}),
    };
    ports.push(record);
    engine.addPort(enginePort(record));
    // Listening before the reply: the kernel connects as soon as it boots.
    await listenDaemon(record);
    save();
    return {
      id,
      session,
      guestPort: record.guestPort,
      switchPort: engine.udpPort,
      ip,
      prefix: subnet.prefix,
      hosts: hosts(),
    };
  };

  const selectPorts = (machine?: string, nic?: number): PortRecord[] => {
    const sel = ports.filter(
      (p) => (machine === undefined || p.machine === machine) && (nic === undefined || p.nic === nic),
    );
    if (machine !== undefined && sel.length === 0) {
      throw new UmlError('NET_NOT_FOUND', `machine ${quote(machine)} has no port on network ${quote(name)}`, {
        hint: `see \`umlkit net inspect ${name}\``,
      });
    }
    return sel;
  };

  const status = (): Record<string, unknown> => {
    engine.sync(); // what the fast path forwarded since the last look, before counters and MACs are read
    return {
      name,
      subnet: spec.subnet,
      udpPort: engine.udpPort,
      switch: me,
      startedAt,
      stats: engine.stats,
      ports: ports.map((p) => {
        const live = engine.ports.get(p.id);
        return {
          ...p,
          transport: portTransport(p),
          impairment: formatImpairment(live?.impairment ?? parseImpairment('clear')),
          rxFrames: live?.rxFrames ?? 0,
          txFrames: live?.txFrames ?? 0,
        };
      }),
      macs: engine.macEntries(),
      leases,
    };
  };

  let stopping = false;
  let finish: (() => void) | undefined;
  const done = new Promise<void>((r) => {
    finish = r;
  });

  const serve = async (socket: Socket, req: SwitchRequest): Promise<void> => {
    switch (req.op) {
      case 'status':
        return reply(socket, { ok: true, ...status() });
      case 'attach':
        return reply(socket, { ok: true, port: await attach(req) });
      case 'lease': {
        const ip = lease(req);
        save();
        return reply(socket, { ok: true, ip });
      }
      case 'forget': {
        for (const key of Object.keys(leases)) if (key.startsWith(`${req.machine}#`)) delete leases[key];
        save();
        return reply(socket, { ok: true });
      }
      case 'detach': {
        const sel = ports.filter(
          (p) => p.machine === req.machine && (req.nic === undefined || p.nic === req.nic),
        );
        for (const p of sel) dropPort(p);
        ports = ports.filter((p) => !sel.includes(p));
        save();
        return reply(socket, { ok: true, removed: sel.length });
      }
      case 'impair': {
        const sel = selectPorts(req.machine, req.nic);
        for (const p of sel) {
          const live = engine.ports.get(p.id);
          if (!live) continue;
          engine.setImpairment(p.id, parseImpairment(req.spec, live.impairment));
          Object.assign(p, { impairment: live.impairment });
        }
        save();
        return reply(socket, {
          ok: true,
          ports: sel.map((p) => ({
            machine: p.machine,
            nic: p.nic,
            device: portDevice(p),
            impairment: formatImpairment(engine.ports.get(p.id)?.impairment ?? parseImpairment('clear')),
          })),
        });
      }
      case 'capture': {
        const portId = req.machine === undefined ? undefined : selectPorts(req.machine)[0]?.id;
        socket.write(`${JSON.stringify({ ok: true })}\n`);
        socket.write(pcapGlobalHeader());
        const tap = {
          ...(portId !== undefined ? { portId } : {}),
          write: (rec: Uint8Array) => {
            // A reader that falls behind loses records rather than growing the switch's memory.
            if (socket.writableLength < 4 << 20) socket.write(rec);
          },
        };
        engine.addTap(tap);
        socket.on('close', () => engine.removeTap(tap));
        socket.on('data', () => {});
        return;
      }
      case 'stop':
        stopping = true;
        reply(socket, { ok: true });
        finish?.();
        return;
    }
  };

  mkdirSync(files.runDir, { recursive: true, mode: 0o700 });
  rmSync(files.socket, { force: true });
  const server = createServer((socket) => {
    let buf = '';
    socket.on('error', () => socket.destroy());
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      socket.off('data', onData);
      let req: SwitchRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as SwitchRequest;
      } catch {
        reply(socket, { ok: false, error: { code: 'USAGE', message: 'malformed switch request' } });
        return;
      }
      serve(socket, req).catch((e: unknown) =>
        reply(socket, {
          ok: false,
          error: isUmlError(e)
            ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }
            : { code: 'INTERNAL', message: String(e) },
        }),
      );
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(files.socket, () => resolve());
  });
  const onSignal = (): void => {
    stopping = true;
    finish?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {});
  await done;
  void stopping;
  clearInterval(sweep);
  server.close();
  for (const c of controls.values()) c.close();
  engine.close();
  rmSync(files.runDir, { recursive: true, force: true });
  // Last: the state dir may be gone already (the network was removed under a running switch).
  try {
    save(new Date().toISOString());
  } catch {}
  return 0;
}

/** What the engine needs of a stored port. */
function enginePort(p: PortRecord): Parameters<SwitchEngine['addPort']>[0] {
  const { id, session, guestPort, impairment, daemon } = p;
  return {
    id,
    session,
    guestPort,
    ...(impairment ? { impairment } : {}),
    ...(daemon
      ? { daemon: { address: daemon.address ? Buffer.from(daemon.address, 'hex') : undefined } }
      : {}),
  };
}

function reply(socket: Socket, value: SwitchReply): void {
  if (!socket.destroyed) socket.end(`${JSON.stringify(value)}\n`);
}
