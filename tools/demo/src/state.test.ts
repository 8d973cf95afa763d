import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readDemoState, writeDemoState } from "./state.js";

const dir = mkdtempSync(join(tmpdir(), "sotto-demo-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("demo state", () => {
  it("is absent on a first run and round-trips after (0600)", async () => {
    const path = join(dir, "demo.json");
    expect(await readDemoState(path)).toBeUndefined();
    const state = {
      version: 1 as const,
      port: 4321,
      accounts: { alice: { actorId: "http://127.0.0.1:4321/users/alice" } },
    };
    await writeDemoState(path, state);
    expect(await readDemoState(path)).toEqual(state);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it.each([
    ["not json"],
    ['{"version":2,"port":1,"accounts":{}}'],
    ['{"version":1,"port":1,"accounts":{"eve":{}}}'],
  ])("refuses %s as bad_state", async (text) => {
    const path = join(dir, "bad.json");
    writeFileSync(path, text);
    await expect(readDemoState(path)).rejects.toMatchObject({ code: "bad_state" });
  });
});
