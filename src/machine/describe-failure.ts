// One stderr line for a failure the agent reported (command not found, bad directory, ...).
import { quote } from '../core/errors.ts';
import type { AgentFailure } from './agent-link.ts';

export function describeFailure(f: AgentFailure, argv0: string): string {
  if (f.stage === 'exec' && f.errno === 2) return `umlkit: ${quote(argv0)}: command not found in the guest\n`;
  if (f.stage === 'exec' && f.errno === 13)
    return `umlkit: ${quote(argv0)}: permission denied in the guest\n`;
  if (f.stage === 'chdir')
    return `umlkit: cannot change to directory ${quote(f.detail)} in the guest: ${f.message}\n`;
  if (f.stage === 'line') return 'umlkit: the machine went down while the command ran\n';
  if (f.stage === 'reboot') return 'umlkit: the guest rebooted while the command ran\n';
  return `umlkit: the guest agent failed at ${f.stage}: ${f.message}${f.detail ? ` (${f.detail})` : ''}\n`;
}
