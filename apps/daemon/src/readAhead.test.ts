import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ReadAhead } from "./readAhead.js";

/** Drains what is read by now. */
function takeAll<T>(ahead: ReadAhead<T>): T[] {
  const out: T[] = [];
  for (let item = ahead.take(); item !== undefined; item = ahead.take()) out.push(item);
  return out;
}

describe("ReadAhead", () => {
  it("hands over every item in order, reading at most `limit` ahead", async () => {
    let read = 0;
    async function* numbers() {
      for (let i = 0; i < 25; i++) {
        read++;
        yield i;
      }
    }
    const ahead = new ReadAhead(numbers(), 10);
    const got: number[] = [];
    while (await ahead.wait()) {
      for (let turn = 0; turn < 20; turn++) await nextTurn();
      // However long the consumer takes, the reader stops at the limit (and one read in flight).
      expect(read - got.length).toBeLessThanOrEqual(11);
      got.push(...takeAll(ahead));
    }
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await ahead.close();
  });

  it("throws the sequence's error once the items before it are taken", async () => {
    async function* failing() {
      yield "a";
      yield "b";
      throw new Error("the server went away");
    }
    const ahead = new ReadAhead(failing(), 10);
    const got: string[] = [];
    await expect(
      (async () => {
        while (await ahead.wait()) got.push(...takeAll(ahead));
      })(),
    ).rejects.toThrow("the server went away");
    expect(got).toEqual(["a", "b"]);
    await ahead.close();
  });

  it("ends the sequence when closed", async () => {
    let finished = false;
    async function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    const ahead = new ReadAhead(endless(), 5);
    expect(await ahead.wait()).toBe(true);
    expect(ahead.take()).toBe(0);
    await ahead.close();
    expect(finished).toBe(true);
  });
});
