// What arrived while the gateway was down comes back in whatever order the senders' servers retry it (Fedify
// delivers each activity on its own: after a restart the held ones and the retried ones cross). The drain
// waits until such a backlog stops arriving, then shows its messages in the order they were published. Pure.

/** An event of a puppet's log as the drain sees it. */
export interface DrainEvent {
  readonly seq: number;
  /** The message's `published` (ms) when the event is a new message published before the gateway started. */
  readonly backlog?: number;
  /** Whether the bridge ignores this event (it can move without changing what is shown). */
  readonly neutral: boolean;
}

/** How long a backlog must have stopped growing before it is shown, and the longest it is held. */
export const BACKLOG_QUIET_MS = 1_500;
export const BACKLOG_MAX_HOLD_MS = 15_000;

/**
 * Milliseconds to wait before draining `events`: while backlog messages keep arriving (the last commit less
 * than {@link BACKLOG_QUIET_MS} ago), up to {@link BACKLOG_MAX_HOLD_MS} after the first was seen; 0 = now.
 */
export function backlogWait(
  events: readonly DrainEvent[],
  now: number,
  lastCommitAt: number,
  firstSeenAt: number,
): number {
  if (!events.some((e) => e.backlog !== undefined)) return 0;
  const quiet = lastCommitAt + BACKLOG_QUIET_MS - now;
  const cap = firstSeenAt + BACKLOG_MAX_HOLD_MS - now;
  return Math.max(0, Math.min(quiet, cap));
}

/**
 * The events in the order to bridge them: each run of backlog messages (with the neutral events among them)
 * sorted by `published`; every other event keeps its place, so an edit or reaction never overtakes its message.
 */
export function inPublishedOrder<E extends DrainEvent>(events: readonly E[]): E[] {
  const out: E[] = [];
  let run: E[] = [];
  const flush = () => {
    out.push(
      ...run
        .filter((e) => e.backlog !== undefined)
        .toSorted((a, b) => (a.backlog as number) - (b.backlog as number) || a.seq - b.seq),
      ...run.filter((e) => e.backlog === undefined),
    );
    run = [];
  };
  for (const e of events) {
    if (e.backlog !== undefined || (e.neutral && run.length > 0)) run.push(e);
    else {
      flush();
      out.push(e);
    }
  }
  flush();
  return out;
}

/** The highest seq up to which every event of the page is done (the cursor may move there), or `after`. */
export function doneUpTo(after: number, page: readonly DrainEvent[], done: ReadonlySet<number>): number {
  let cursor = after;
  for (const e of page.toSorted((a, b) => a.seq - b.seq)) {
    if (!done.has(e.seq)) break;
    cursor = e.seq;
  }
  return cursor;
}
