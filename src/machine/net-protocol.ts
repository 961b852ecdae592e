// What clients ask a network's switch over its unix socket: one JSON line, one JSON reply (capture then
// streams pcap bytes on the same connection).
import type { ProcessIdentity } from '../host/process-identity.ts';

export type SwitchRequest =
  | { readonly op: 'status' }
  | {
      readonly op: 'attach';
      readonly machine: string;
      readonly nic: number;
      readonly mac: string;
      /** An address, 'auto' or 'none'. */
      readonly ip: string;
      readonly owner: ProcessIdentity;
      readonly ephemeral: boolean;
      /** A daemon port (6.1 kernels' `daemon` transport) whose control socket the switch opens here. */
      readonly daemonCtl?: string;
    }
  /** Reserve the NIC's address now (at `create`), so machines created together know each other's names. */
  | { readonly op: 'lease'; readonly machine: string; readonly nic: number; readonly ip: string }
  /** Drop every lease of a removed machine. */
  | { readonly op: 'forget'; readonly machine: string }
  | { readonly op: 'detach'; readonly machine: string; readonly nic?: number }
  | { readonly op: 'impair'; readonly machine?: string; readonly nic?: number; readonly spec: string }
  | { readonly op: 'capture'; readonly machine?: string }
  | { readonly op: 'stop' };

export interface AttachedPort {
  readonly id: number;
  readonly session: number;
  readonly guestPort: number;
  readonly switchPort: number;
  readonly ip: string | null;
  readonly prefix: number;
  /** name → address of every machine with a lease on this network, for /etc/hosts. */
  readonly hosts: Readonly<Record<string, string>>;
}

export interface SwitchReply {
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
  readonly [key: string]: unknown;
}
