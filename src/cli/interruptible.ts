// Long host work (an image build) that Ctrl-C or SIGTERM must stop cleanly: the signal aborts `work`,
// which removes what it made before the error reaches the user, instead of Node exiting mid-write.
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
