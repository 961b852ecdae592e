import { describe, expect, it } from 'vitest';
import { parseShareSpec, refuseSharesWithoutSandbox } from './share-spec.ts';

describe('parseShareSpec', () => {
  it('parses HOST:GUEST and HOST:GUEST:ro', () => {
    expect(parseShareSpec('src:/mnt/src')).toEqual({ hostDir: 'src', guestDir: '/mnt/src', readonly: false });
    expect(parseShareSpec('/a:/b/:ro')).toEqual({ hostDir: '/a', guestDir: '/b', readonly: true });
  });
  it.each(['src', ':/mnt', 'src:mnt', 'src:/', 'src:/a/../etc', 'src:/mnt:rx', 'a:/b:ro:x'])(
    'refuses %s',
    (text) => {
      expect(() => parseShareSpec(text)).toThrow(expect.objectContaining({ code: 'INVALID_SHARE_SPEC' }));
    },
  );
  it('needs the sandbox', () => {
    const share = parseShareSpec('/a:/b');
    expect(() => refuseSharesWithoutSandbox([share], false)).toThrow(/needs the sandbox/);
    expect(() => refuseSharesWithoutSandbox([share], true)).not.toThrow();
  });
});
