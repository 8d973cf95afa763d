import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { NODE_FLAGS, PROGRAM_ENV, programArgs, programEnv, programPath, SHEBANG } from "./programs.js";

const run = promisify(execFile);

describe("the bundled programs", () => {
  it("carry PROGRAM_ENV and NODE_FLAGS in their shebang and run by it, as an installed bin does", async () => {
    for (const program of ["sottod", "sotto"] as const) {
      const [shebang] = readFileSync(programPath(program), "utf8").split("\n", 1);
      expect(shebang).toBe(SHEBANG);
      expect(shebang).toBe(`#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node ${NODE_FLAGS.join(" ")}`);
      // Executed directly: the kernel reads the shebang (node on PATH is Node 24 inside pnpm scripts).
      const { stdout, stderr } = await run(programPath(program), ["--help"]).catch(
        (e: { stdout: string; stderr: string }) => e,
      );
      expect(`${stdout}${stderr}`).toMatch(new RegExp(`usage:?\\s+${program}`));
    }
  });

  it("run under node with the flags given on its command line", async () => {
    const { stdout } = await run(process.execPath, programArgs("sotto", ["--help"]), { env: programEnv() });
    expect(stdout).toContain("usage: sotto");
    expect(programEnv({ HOME: "/home/x" })).toEqual({ HOME: "/home/x", ...PROGRAM_ENV });
  });

  it("are started with the same flags and environment by the systemd unit of docs/operations.md", () => {
    const operations = readFileSync(new URL("../../../docs/operations.md", import.meta.url), "utf8");
    const lines = operations.split("\n");
    for (const [name, value] of Object.entries(PROGRAM_ENV))
      expect(lines).toContain(`Environment=${name}=${value}`);
    const execStart = lines.find((line) => line.startsWith("ExecStart="));
    expect(execStart).toBe(
      `ExecStart=/usr/bin/node ${NODE_FLAGS.join(" ")} /opt/sotto/apps/daemon/dist/bin/sottod.js run --data /var/lib/sotto/%i --credential sotto-%i`,
    );
  });
});
