import { readFile, rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { DemoError } from "./errors.js";

const DemoState = z.object({
  version: z.literal(1),
  /** Actor ids contain the server's origin, so every later run must listen on the same port. */
  port: z.int().min(1).max(65535),
  accounts: z.partialRecord(
    z.enum(["alice", "bob"]),
    // `seq`: the last event of the account's daemon that the previous run saw.
    z.object({ actorId: z.url(), seq: z.int().min(0).optional() }),
  ),
});
export type DemoState = z.infer<typeof DemoState>;

/** The state a previous run left in `path`, or undefined on a first run. */
export async function readDemoState(path: string): Promise<DemoState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = DemoState.safeParse(json);
  if (!parsed.success) {
    throw new DemoError(
      "bad_state",
      `${path} is not demo state this version understands; move the directory away to start afresh`,
    );
  }
  return parsed.data;
}

/** Replaces the state file atomically (a crash leaves the old or the new one). */
export async function writeDemoState(path: string, state: DemoState): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
