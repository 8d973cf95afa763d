import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "./store.js";
import { fixture, tempDir, writeKeyFile } from "./test-support.js";

const KILLS = 30;

/** Reopens the store after a kill and checks that exactly units 1..n are there, each whole. */
async function verify(path: string, keyFile: string): Promise<number> {
  const store = await openStore({ path, key: { keyFile }, keepEvents: Number.MAX_SAFE_INTEGER });
  try {
    const n = Number((store.cursor("crash") ?? "unit-0").slice("unit-".length));
    const messages = store.messages("crash-group", { limit: 1_000_000 });
    expect(messages.map((m) => m.id)).toEqual(Array.from({ length: n }, (_, i) => `message-${i + 1}`));
    expect(messages.at(-1)?.body ?? null).toEqual(n === 0 ? null : { text: `crash test message ${n}` });
    if (n > 0) {
      const group = store.group("crash-group");
      expect(group?.epoch).toBe(n);
      expect(group?.state).toEqual(new Uint8Array(128).fill(n % 251));
      expect(store.isProcessed(`https://example.test/activities/${n}`)).toBe(true);
    }
    expect(store.isProcessed(`https://example.test/activities/${n + 1}`)).toBe(false);
    expect(store.outbox("queued")).toHaveLength(n);
    const page = store.since(0, 1_000_000);
    expect(page.gap).toBeNull();
    expect(page.last).toBe(2 * n);
    expect(page.events.map((e) => [e.seq, (e.data as { unit: number }).unit])).toEqual(
      Array.from({ length: 2 * n }, (_, i) => [i + 1, Math.floor(i / 2) + 1]),
    );
    // integrity_check, then every sealed value authenticated.
    store.check();
    return n;
  } finally {
    store.close();
  }
}

describe("crash safety", () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let keyFile: string;

  beforeAll(() => {
    tmp = tempDir();
    path = `${tmp.dir}/account.db`;
    keyFile = writeKeyFile(`${tmp.dir}/key`);
  });

  afterAll(() => tmp.remove());

  it(`keeps every unit all-or-nothing when a writer is SIGKILLed at random moments (${KILLS} times)`, async () => {
    let kills = 0;
    let done = 0;
    const progress: number[] = [];
    for (let run = 0; kills < KILLS && run < 3 * KILLS; run++) {
      const child = spawn(process.execPath, [fixture("crash-child.mjs"), path, keyFile, "1000"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      // One run in ten is killed while it opens the store; the others at a random moment of writing.
      let timer: NodeJS.Timeout | undefined;
      const kill = (ms: number) => {
        timer = setTimeout(() => child.kill("SIGKILL"), ms);
      };
      if (run % 10 === 0) kill(Math.random() * 300);
      else child.stdout.once("data", () => kill(Math.random() * 400));
      const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
      clearTimeout(timer);
      if (signal === "SIGKILL") kills++;
      else expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const n = await verify(path, keyFile);
      expect(n).toBeGreaterThanOrEqual(done);
      done = n;
      progress.push(n);
    }
    expect(kills).toBe(KILLS);
    // The kills landed while units were being written, not only before or after.
    expect(new Set(progress).size).toBeGreaterThan(KILLS / 2);
  }, 600_000); // sized by count (KILLS): it passed 120 s on a loaded two-core machine
});
