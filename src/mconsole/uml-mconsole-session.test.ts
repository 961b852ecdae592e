// Replays recorded kernel replies through the session runner: stdout and status must be uml_mconsole's.
import { describe, expect, it } from 'vitest';
import { recordedCases, recordedCwd } from '../../test/helpers/mconsole-fixtures.ts';
import { decodeReply, decodeRequest } from '../core/mconsole/codec.ts';
import { assembleReply, type MconsoleReply } from '../core/mconsole/reply.ts';
import { joinWords } from '../core/mconsole/uml-mconsole.ts';
import { runUmlMconsoleLine } from './uml-mconsole-session.ts';

describe('runUmlMconsoleLine', () => {
  for (const c of recordedCases.filter((x) => x.words)) {
    it(`prints what uml_mconsole printed for \`${(c.words ?? []).join(' ').replace('\n', '\\n')}\``, async () => {
      let next = 0;
      const client = {
        async request(command: string | Uint8Array): Promise<MconsoleReply> {
          const x = c.exchanges[next++];
          if (!x) throw new Error('more requests than uml_mconsole sent');
          const text = typeof command === 'string' ? command : new TextDecoder().decode(command);
          expect(text).toBe(decodeRequest(x.request).command);
          return assembleReply(x.replies.map(decodeReply));
        },
      };
      let stdout = '';
      const status = await runUmlMconsoleLine(
        client,
        { socketPath: '/nonexistent' },
        joinWords(c.words ?? []),
        {
          cwd: recordedCwd,
          write: (b) => {
            stdout += typeof b === 'string' ? b : new TextDecoder().decode(b);
          },
          warn: () => {},
        },
      );
      expect(next).toBe(c.exchanges.length);
      expect(stdout).toBe(c.stdout);
      expect(status).toBe(c.status);
    });
  }
});
