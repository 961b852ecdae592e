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
import type { OptionValues } from './command.ts';
import { listOption } from './parse-args.ts';

export { NET_OPTIONS } from './net-option-specs.ts';

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
