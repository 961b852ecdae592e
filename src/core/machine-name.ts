// Machine names: what is allowed, and whether every socket path a machine will need fits in sun_path.
import { quote, UmlError } from './errors.ts';

/** sun_path is 108 bytes including the terminating NUL. */
export const UNIX_PATH_MAX = 107;
export const MAX_NAME = 63;
const NAME = /^[a-z0-9][a-z0-9_.-]*$/;

/** The sockets of machine `name` under the runtime dir, longest first (see docs/state-dir.md). */
export function machineSocketPaths(runtimeDir: string, name: string): string[] {
  const dir = `${runtimeDir}/m/${name}`;
  return [`${dir}/${name}/mconsole`, `${dir}/supervisor.sock`, `${dir}/notify.sock`];
}

/**
 * @throws {UmlError} INVALID_NAME for a bad name, SOCKET_PATH_TOO_LONG when a socket would not fit.
 */
export function validateMachineName(name: string, runtimeDir: string): string {
  if (name.length === 0 || name.length > MAX_NAME || !NAME.test(name)) {
    throw new UmlError('INVALID_NAME', `machine name ${quote(name)} is not valid`, {
      hint: `use 1-${MAX_NAME} characters: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit`,
    });
  }
  for (const path of machineSocketPaths(runtimeDir, name)) {
    if (path.length > UNIX_PATH_MAX) {
      throw new UmlError(
        'SOCKET_PATH_TOO_LONG',
        `socket path ${quote(path)} of machine ${quote(name)} is ${path.length} bytes; the limit is ${UNIX_PATH_MAX}`,
        {
          hint: 'use a shorter machine name, or set UMLKIT_RUNTIME_DIR to a shorter directory',
        },
      );
    }
  }
  return name;
}
