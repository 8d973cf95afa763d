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
