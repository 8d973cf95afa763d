import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { pause } from "./pause.js";

describe("pause", () => {
  it("ends when woken, leaving no listener on the signal", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 100; i++) await pause(60_000, controller.signal, (wake) => queueMicrotask(wake));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("ends after its time, leaving no listener", async () => {
    const controller = new AbortController();
    const started = performance.now();
    await pause(20, controller.signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("ends when the signal aborts, or at once when it already has", async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await waiting;
    await pause(60_000, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
