/** How `waitFor` polls. */
export type WaitOptions = {
  /** Fail after this long (default 10 s). */
  timeoutMs?: number;
  /** Between two probes (default 20 ms). */
  intervalMs?: number;
  /** Treat a throwing probe as "not yet" (e.g. while a backend restarts); default false. */
  retryErrors?: boolean;
};

/**
 * Probes until `probe` gives something other than undefined, null or false, and returns it; fails
 * naming `what` after the timeout (with the last error, when errors are retried).
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  options: WaitOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 10_000, intervalMs = 20, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === null ? "" : ` (last error: ${String(lastError)})`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
