import { describe, expect, it } from "vitest";
import { formatSequence, parseSequence, SequenceStream } from "./sequence.js";

describe("Sotto-Sequence", () => {
  it("reads back what it writes, and refuses malformed values", () => {
    const sequence = { stream: "abcdefgh", n: 12, done: 9 };
    expect(parseSequence(formatSequence(sequence))).toEqual(sequence);
    for (const bad of [
      undefined,
      null,
      "",
      "abc 1 0",
      "abcdefgh 1 1",
      "abcdefgh 0 0",
      "abcdefgh 2",
      "a b c d",
    ]) {
      expect(parseSequence(bad)).toBeUndefined();
    }
  });

  it("numbers a stream's requests in order and moves `done` over those settled without a gap", () => {
    const stream = new SequenceStream();
    const [one, two, three] = [stream.next(), stream.next(), stream.next()];
    expect([one.n, two.n, three.n]).toEqual([1, 2, 3]);
    expect(parseSequence(one.header)).toEqual({ stream: stream.id, n: 1, done: 0 });
    stream.settle(2);
    expect(parseSequence(stream.next().header)?.done).toBe(0);
    stream.settle(1);
    expect(parseSequence(stream.next().header)?.done).toBe(2);
    expect(new SequenceStream().id).not.toBe(stream.id);
  });
});
