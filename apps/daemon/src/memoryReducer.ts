import { performance } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";

/**
 * Gives memory back once sottod is idle (issue 20). sottod runs with a young generation of up to 16 MB
 * (`NODE_FLAGS`): a catch-up's items then die young instead of being promoted and marked again and again,
 * which cost it a third of its CPU under a 1 MB one. V8 keeps the space it grew to, though, and an idle daemon
 * has no use for it. So once a check finds the event loop idle, after a busy stretch or with the young
 * generation above `YOUNG_LIMIT`, a last-resort collection (the one V8 runs on a low-memory notification)
 * compacts the heap and shrinks the young generation back to its initial size. Needs `--expose-gc` (in
 * `NODE_FLAGS`); without it the reducer does nothing.
 */

/** How often the reducer looks (its timer never keeps the process alive). */
const CHECK_MS = 1_000;

/** The event loop was at most this busy since the last check: the daemon idles. */
const IDLE_UTILIZATION = 0.05;

/** Committed young generation above which an idle daemon gives it back (the initial size is 1 MB). */
export const YOUNG_LIMIT = 2 * 1024 * 1024;

type Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

export interface MemoryReducer {
  /** Shrinks the young generation now if it is above the limit; true when it collected. */
  reduce(): boolean;
  stop(): void;
}

/** The young generation's committed bytes (new space and, under a large one, its large-object part). */
export function youngGenerationBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space" || space.space_name === "new_large_object_space")
      bytes += space.physical_space_size;
  }
  return bytes;
}

export function startMemoryReducer(): MemoryReducer {
  const gc = (globalThis as { gc?: Gc }).gc;
  let last = performance.eventLoopUtilization();
  // Busy since the last collection: the old generation grew too (a catch-up's store and state), so the first
  // idle check collects whatever the young generation's size.
  let worked = false;
  const collect = () => {
    gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
    worked = false;
  };
  const reduce = (): boolean => {
    if (gc === undefined || youngGenerationBytes() <= YOUNG_LIMIT) return false;
    collect();
    return true;
  };
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy > IDLE_UTILIZATION) worked = true;
    else if (worked) collect();
    else reduce();
  }, CHECK_MS);
  timer.unref();
  return { reduce, stop: () => clearInterval(timer) };
}
