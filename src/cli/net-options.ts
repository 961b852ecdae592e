// Network options shared by `run` and `create`: `--net` NICs and `-p` port forwards (docs/networking.md).
import {
  type NicSpec,
  type PortForward,
  parseNicSpec,
  parsePortForward,
  withUplinkForPorts,
} from '../core/net/nic-spec.ts';
import { readNetSpec } from '../host/net/net-store.ts';
import type { HostPaths } from '../host/paths.ts';
import type { OptionSpec, OptionValues } from './command.ts';
import { listOption } from './parse-args.ts';

export const NET_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'net',
    type: 'string',
    value: 'NET[,mac=M][,ip=A|auto|none]',
    multiple: true,
    description: 'add a NIC (vec0, vec1, ...): a network from `net create`, `user` (uplink), or tap:IFNAME',
  },
  {
    name: 'publish',
    short: 'p',
    type: 'string',
    value: '[HOSTIP:]HOSTPORT:GUESTPORT[/udp]',
    multiple: true,
    description: 'forward a host port (default 127.0.0.1) to the guest; adds `--net user` if missing',
  },
];

export interface NetOptions {
  readonly nics: NicSpec[];
  readonly forwards: PortForward[];
}

/** @throws {UmlError} INVALID_NET_SPEC, INVALID_PORT_SPEC, NET_NOT_FOUND (a network that does not exist) */
export function readNetOptions(values: OptionValues, paths: HostPaths): NetOptions {
  const forwards = listOption(values, 'publish').map(parsePortForward);
  const nics = withUplinkForPorts(listOption(values, 'net').map(parseNicSpec), forwards);
  for (const n of nics) if (n.kind === 'switch') readNetSpec(paths, n.net);
  return { nics, forwards };
}
