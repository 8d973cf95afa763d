/**
 * A worker loop's pause between rounds: it ends after `ms`, when `signal` aborts, or when the `wake` it hands to
 * `onWake` is called (new work arrived in this process, so the loop starts at once). Whichever comes first, the
 * timer and the abort listener are gone: a long-lived signal collects no listener per round (a loop that left one
 * behind made every later `addEventListener` on that signal slower, and held every round's closure).
 */
export function pause(
  ms: number,
  signal: AbortSignal | undefined,
  onWake: (wake: () => void) => void = () => {},
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(wake, ms);
    function wake() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", wake);
      resolve();
    }
    onWake(wake);
    if (signal?.aborted) wake();
    else signal?.addEventListener("abort", wake);
  });
}
