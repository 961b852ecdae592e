// Pause and resume through the management console. While stopped, UML serves only mconsole requests,
// so neither the agent nor the console answers; a marker file in the run dir records the pause for
// `ls` (mconsole cannot be asked whether it is stopped).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import type { HostPaths } from '../host/paths.ts';
import { MconsoleClient } from '../mconsole/client.ts';
import { inspectMachine } from './lifecycle.ts';

export const PAUSED_MARKER = 'paused';

export async function pauseMachine(paths: HostPaths, name: string, pause: boolean): Promise<void> {
  const info = inspectMachine(paths, name);
  const wanted = pause ? 'running' : 'paused';
  if (info.status !== wanted) {
    throw new UmlError(
      'WRONG_STATE',
      `machine ${quote(name)} is ${info.status}; ${pause ? 'pause' : 'resume'} needs it ${wanted}`,
      {
        hint: pause ? `start it: \`umlkit start ${name}\`` : `it is not paused`,
      },
    );
  }
  const client = new MconsoleClient(info.files.mconsole);
  try {
    await client.run(pause ? 'stop' : 'go');
  } finally {
    client.close();
  }
  const marker = join(info.files.runDir, PAUSED_MARKER);
  if (pause) writeFileSync(marker, `${Date.now()}\n`);
  else rmSync(marker, { force: true });
}
