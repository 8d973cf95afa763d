// What both delivery queues' loops share.

/**
 * When a message whose handler threw is tried again. Fedify retries failed deliveries itself, so a throw means
 * its own handling failed (a database error under it, say): the message is kept rather than lost.
 */
export const RETRY_AFTER_THROW_MS = 5000;

/**
 * A queue loop's pause between passes: it ends after `ms`, when `signal` aborts, or when the `wake` it hands
 * to `onWake` is called (an enqueue in this process does that, so new work starts at once).
 */
export function pause(
  ms: number,
  signal: AbortSignal | undefined,
  onWake: (wake: () => void) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(wake, ms);
    function wake() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", wake);
      resolve();
    }
    onWake(wake);
    signal?.addEventListener("abort", wake);
  });
}
