import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openStore } from "./store.js";
import { tempDir, writeKeyFile } from "./test-support.js";

describe("event log paging and retention", () => {
  it("pages cover every seq once: delivered or inside a reported gap", async () => {
    const tmp = tempDir();
    const keyFile = writeKeyFile(`${tmp.dir}/key`);
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 30 }),
          fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 60 }),
          fc.integer({ min: 1, max: 7 }),
          fc.nat({ max: 80 }),
          async (keep, eventsPerUnit, limit, after) => {
            const store = await openStore({
              path: `${tmp.dir}/s${run++}.db`,
              key: { keyFile },
              keepEvents: keep,
            });
            try {
              for (const count of eventsPerUnit) {
                store.apply({ events: Array.from({ length: count }, (_, i) => ({ type: "t", data: i })) });
              }
              const last = store.lastSeq;
              expect(last).toBe(eventsPerUnit.reduce((a, b) => a + b, 0));
              const seen: number[] = [];
              let cursor = Math.min(after, last);
              const start = cursor;
              for (let pages = 0; pages <= last + 1; pages++) {
                const page = store.since(cursor, limit);
                if (page.gap) {
                  expect(page.gap.from).toBe(cursor + 1);
                  for (let s = page.gap.from; s <= page.gap.to; s++) seen.push(s);
                }
                seen.push(...page.events.map((e) => e.seq));
                if (page.events.length === 0) break;
                cursor = page.events.at(-1)?.seq ?? cursor;
              }
              expect(seen).toEqual(Array.from({ length: last - start }, (_, i) => start + i + 1));
              // Retention keeps at least the newest `keep` events.
              expect(store.since(Math.max(0, last - keep), keep).gap).toBeNull();
            } finally {
              store.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      tmp.remove();
    }
  });
});
