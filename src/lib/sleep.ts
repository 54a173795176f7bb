/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects). The abort
 * listener is removed when the timer fires: followers sleep on one long-lived signal every poll,
 * and listeners left behind would pile up on it for as long as the process runs.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
