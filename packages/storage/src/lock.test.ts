import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "./store.js";
import { expectStorageError, fixture, tempDir, writeKeyFile } from "./test-support.js";

/** Starts a child process holding the store; resolves with its first line of output. */
async function holder(path: string, keyFile: string): Promise<{ child: ChildProcess; said: string }> {
  const child = spawn(process.execPath, [fixture("hold-store.mjs"), path, keyFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return { child, said: chunk.toString().trim() };
}

describe("single-writer lock", () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let keyFile: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    tmp = tempDir();
    path = `${tmp.dir}/account.db`;
    keyFile = writeKeyFile(`${tmp.dir}/key`);
  });

  afterEach(() => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    tmp.remove();
  });

  it("refuses a second connection in the same process until the first closes", async () => {
    const first = await openStore({ path, key: { keyFile } });
    const error = await expectStorageError(() => openStore({ path, key: { keyFile } }), "locked");
    expect(error.message).toMatch(/open in another process/);
    first.close();
    const second = await openStore({ path, key: { keyFile } });
    expect(second.lastSeq).toBe(0);
    second.close();
  });

  it("refuses a second process, and recovers when the holder is SIGKILLed", async () => {
    const { child, said } = await holder(path, keyFile);
    children.push(child);
    expect(said).toBe("open");
    await expectStorageError(() => openStore({ path, key: { keyFile } }), "locked");

    // The other way round: a process started while we hold the store is refused too.
    child.kill("SIGKILL");
    await once(child, "exit");
    const store = await openStore({ path, key: { keyFile } });
    const refused = await holder(path, keyFile);
    children.push(refused.child);
    expect(refused.said).toBe("locked");
    await once(refused.child, "exit");
    expect(refused.child.exitCode).toBe(3);
    store.close();
  });
});
