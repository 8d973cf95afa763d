import { describe, expect, it } from "vitest";
import {
  BACKLOG_MAX_HOLD_MS,
  BACKLOG_QUIET_MS,
  backlogWait,
  type DrainEvent,
  doneUpTo,
  inPublishedOrder,
} from "./catch-up.js";

const msg = (seq: number, backlog: number): DrainEvent => ({ seq, backlog, neutral: false });
const other = (seq: number): DrainEvent => ({ seq, neutral: false });
const neutral = (seq: number): DrainEvent => ({ seq, neutral: true });

describe("catch-up after a restart", () => {
  it("sorts each run of backlog messages by published, neutral events inside it, others in place", () => {
    const events = [msg(1, 3), neutral(2), msg(3, 1), other(4), msg(5, 5), msg(6, 4), neutral(7)];
    expect(inPublishedOrder(events).map((e) => e.seq)).toEqual([3, 1, 2, 4, 6, 5, 7]);
    expect(inPublishedOrder([other(1), neutral(2), other(3)]).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it("waits while a backlog keeps arriving, never longer than the cap, and not at all without one", () => {
    const page = [msg(1, 1)];
    expect(backlogWait([other(1)], 1_000, 1_000, 1_000)).toBe(0);
    expect(backlogWait(page, 1_000, 1_000, 1_000)).toBe(BACKLOG_QUIET_MS);
    expect(backlogWait(page, 1_000 + BACKLOG_QUIET_MS, 1_000, 1_000)).toBe(0);
    const late = 1_000 + BACKLOG_MAX_HOLD_MS - 100;
    expect(backlogWait(page, late, late, 1_000)).toBe(100);
  });

  it("moves the cursor only over a prefix of the page that is all done", () => {
    const page = [other(4), other(5), other(6)];
    expect(doneUpTo(3, page, new Set([5, 6]))).toBe(3);
    expect(doneUpTo(3, page, new Set([4, 6]))).toBe(4);
    expect(doneUpTo(3, page, new Set([4, 5, 6]))).toBe(6);
  });
});
