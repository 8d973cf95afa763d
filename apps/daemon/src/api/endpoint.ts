// How local clients find the API: the daemon writes `<stateDir>/api.json` (the URL) next to the token file.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { TOKEN_FILE } from "./token.js";

export const ENDPOINT_FILE = "api.json";

const Endpoint = z.object({ url: z.string().startsWith("ws://"), pid: z.int() });
export type Endpoint = z.infer<typeof Endpoint>;

export async function writeEndpoint(stateDir: string, endpoint: Endpoint): Promise<void> {
  const path = join(stateDir, ENDPOINT_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The endpoint the daemon wrote, or undefined when there is none (daemon never started here). */
export async function readEndpoint(stateDir: string): Promise<Endpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, ENDPOINT_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = Endpoint.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

export function tokenPath(stateDir: string): string {
  return join(stateDir, TOKEN_FILE);
}
