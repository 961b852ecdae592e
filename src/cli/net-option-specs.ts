// The `--net` and `-p` option specs alone, so a command's option table needs none of the networking code
// (src/cli/net-options.ts reads them; `run` loads it only when they are given).
import type { OptionSpec } from './command.ts';

export const NET_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'net',
    type: 'string',
    value: 'NET[,mac=M][,ip=A|auto|none][,transport=daemon]',
    multiple: true,
    description:
      "add a NIC (vec0, vec1, ...): a network from `net create`, `user` (uplink), or tap:IFNAME; transport=daemon makes it ethN on the legacy daemon driver (Debian's 6.1 kernel)",
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
