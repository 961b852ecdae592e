// UMLKIT_TRACE=1: one stderr line per step of the run path, in ms since this process started
// (performance.now() counts from Node's own start), to see where `umlkit run` spends its time.
const enabled = process.env.UMLKIT_TRACE === '1';

export function trace(step: string): void {
  if (enabled) process.stderr.write(`umlkit-trace ${performance.now().toFixed(1)} ${step}\n`);
}
