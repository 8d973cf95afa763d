import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { YOUNG_LIMIT } from "./memoryReducer.js";
import { NODE_FLAGS } from "./programs.js";

const run = promisify(execFile);

/**
 * A node process under `flags` grows its young generation with a burst of short- and middle-lived objects
 * (as a catch-up does), then idles with the reducer running; it prints the young generation's bytes after the
 * burst and once idle (or after `waitMs`), and what an explicit `reduce()` answered then.
 */
async function burstThenIdle(
  flags: readonly string[],
  waitMs: number,
): Promise<{ busy: number; idle: number; reduced: boolean }> {
  const reducer = new URL("../dist/memoryReducer.js", import.meta.url).href;
  const script = `
    const { startMemoryReducer, youngGenerationBytes, YOUNG_LIMIT } = await import(${JSON.stringify(reducer)});
    const reducer = startMemoryReducer();
    let inFlight = [];
    for (let i = 0; i < 300_000; i++) {
      inFlight.push({ i, body: "message " + i, bytes: new Array(16).fill(i) });
      if (inFlight.length > 3_000) inFlight.shift();
    }
    inFlight = [];
    const busy = youngGenerationBytes();
    const until = Date.now() + ${waitMs};
    while (youngGenerationBytes() > YOUNG_LIMIT && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const idle = youngGenerationBytes();
    const reduced = reducer.reduce();
    reducer.stop();
    console.log(JSON.stringify({ busy, idle, reduced }));
  `;
  const { stdout } = await run(process.execPath, [...flags, "--input-type=module", "-e", script], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

describe("the memory reducer", () => {
  it("gives an idle sottod's young generation back after a burst grew it", async () => {
    const { busy, idle, reduced } = await burstThenIdle(NODE_FLAGS, 10_000);
    expect(busy).toBeGreaterThan(4 * YOUNG_LIMIT);
    expect(idle).toBeLessThanOrEqual(YOUNG_LIMIT);
    // Nothing left to give back: a further reduce does not collect.
    expect(reduced).toBe(false);
  }, 90_000);

  it("does nothing without --expose-gc: the young generation keeps what it grew to", async () => {
    const { busy, idle, reduced } = await burstThenIdle(
      NODE_FLAGS.filter((flag) => flag !== "--expose-gc"),
      3_000, // three of the reducer's checks
    );
    expect(busy).toBeGreaterThan(4 * YOUNG_LIMIT);
    expect(idle).toBeGreaterThan(YOUNG_LIMIT);
    expect(reduced).toBe(false);
  }, 90_000);
});
