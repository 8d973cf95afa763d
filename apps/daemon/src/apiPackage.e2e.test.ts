// @sotto/api as a frontend project gets it: `pnpm pack` of it and of @sotto/shared (what it needs from the
// workspace), `npm install` of the two tarballs into a fresh project, then, under the machine's own Node (20 here,
// not the workspace's 24), a script type-checked against the installed typings that drives a real sottod with
// SottoClient. No engine warning may show: @sotto/api needs neither the MLS engine nor Node 24.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiServer, serveApi } from "./api/index.js";
import type { Daemon } from "./daemon.js";
import { useWorld } from "./testing/world.js";

const run = promisify(execFile);
const packages = fileURLToPath(new URL("../../../packages/", import.meta.url));

/** The first program named `name` on PATH outside node_modules (pnpm puts its Node 24 first), else undefined. */
function systemProgram(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir.includes("node_modules")) continue;
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const SCRIPT = `import { SottoClient, ApiError, methods, type Conversation } from "@sotto/api";

const client = await SottoClient.connect({
  url: process.env.SOTTO_URL ?? "",
  token: process.env.SOTTO_TOKEN ?? "",
  reconnect: false,
});
const status = await client.call("status");
const account = await client.call("account.get");
const created: Conversation = await client.call("conversations.create", {
  members: [account.actorId],
  title: "from Node " + process.versions.node,
});
let refused = "";
try {
  await client.call("conversations.get", { conversationId: "urn:uuid:00000000-0000-4000-8000-000000000000" });
} catch (error) {
  if (error instanceof ApiError) refused = error.code;
}
console.log(JSON.stringify({
  node: process.versions.node,
  methods: Object.keys(methods).length,
  ready: status.ready,
  actorId: account.actorId,
  title: created.title,
  refused,
}));
client.close();
`;

describe("@sotto/api packed and installed with npm under the system Node", () => {
  const world = useWorld();
  let daemon: Daemon;
  let api: ApiServer;
  let project: string;

  beforeAll(async () => {
    const server = await world().server();
    daemon = await world().daemon(server, "alice");
    await daemon.start();
    api = await serveApi(daemon, { stateDir: join(world().dir, "alice-data") });
    project = join(world().dir, "frontend");
    mkdirSync(project);
  });

  afterAll(async () => {
    await api?.close();
  });

  it("installs from the tarballs without engine warnings, type-checks, and drives sottod", async () => {
    const node = systemProgram("node") ?? process.execPath;
    const npm = systemProgram("npm");
    if (npm === undefined) throw new Error("npm is not on PATH: it is what frontend projects install with");
    const tarballs: string[] = [];
    for (const name of ["shared", "api"]) {
      const [program, ...args] = pnpmCli();
      await run(program as string, [...args, "pack", "--pack-destination", project], {
        cwd: join(packages, name),
      });
    }
    for (const file of readdirSync(project)) if (file.endsWith(".tgz")) tarballs.push(`./${file}`);
    expect(tarballs.sort()).toEqual(["./sotto-api-0.1.0.tgz", "./sotto-shared-0.1.0.tgz"]);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "frontend", private: true, type: "module" }),
    );
    const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}` };
    const installed = await run(
      npm,
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel", "warn", ...tarballs],
      { cwd: project, env, timeout: 600_000 },
    );
    expect(`${installed.stdout}${installed.stderr}`).not.toMatch(/EBADENGINE|Unsupported engine/);
    // What a frontend installs: @sotto/api, @sotto/shared and their registry dependencies; no MLS engine.
    const modules = readdirSync(join(project, "node_modules", "@sotto"));
    expect(modules.sort()).toEqual(["api", "shared"]);
    expect(existsSync(join(project, "node_modules", "ts-mls"))).toBe(false);

    writeFileSync(join(project, "main.ts"), SCRIPT);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
          // A frontend's usual libraries (zod's typings name the DOM's URL).
          lib: ["es2022", "dom"],
        },
        files: ["main.ts", "node-globals.d.ts"],
      }),
    );
    // The one Node global the script uses, so that no @types/node needs installing.
    writeFileSync(
      join(project, "node-globals.d.ts"),
      "declare const process: { env: Record<string, string | undefined>; versions: { node: string } };\n",
    );
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const checked = await run(node, [tsc, "-p", "."], { cwd: project }).catch(
      (error: { stdout?: string }) => ({
        stdout: `tsc failed:\n${error.stdout ?? String(error)}`,
        stderr: "",
      }),
    );
    expect(checked.stdout).toBe("");

    // Node runs the script with its types stripped: the same file as plain JavaScript.
    const js = SCRIPT.replace(", type Conversation", "").replace(
      "const created: Conversation =",
      "const created =",
    );
    writeFileSync(join(project, "main.mjs"), js);
    const ran = await run(node, ["main.mjs"], {
      cwd: project,
      env: {
        ...env,
        SOTTO_URL: api.url,
        SOTTO_TOKEN: readFileSync(join(world().dir, "alice-data", "api-token"), "utf8").trim(),
      },
      timeout: 120_000,
    });
    const result = JSON.parse(ran.stdout) as Record<string, unknown>;
    expect(result).toEqual({
      node: expect.any(String),
      methods: expect.any(Number),
      ready: true,
      actorId: daemon.actorId,
      title: `from Node ${result.node as string}`,
      refused: "conversation_not_found",
    });
    // The point: it ran on the machine's Node, which is older than the workspace's where the machine has one.
    const major = Number(String(result.node).split(".")[0]);
    expect(major).toBeGreaterThanOrEqual(20);
    if (node !== process.execPath) process.stderr.write(`@sotto/api ran on the system Node ${result.node}\n`);
  });
});

/** The command of the pnpm this test runs under (npx brought pnpm 12: a program, or a script for Node). */
function pnpmCli(): string[] {
  const execPath = process.env.npm_execpath;
  if (!execPath || !/pnpm/.test(execPath))
    throw new Error("run this test through pnpm (npx pnpm@12.21.0 ...), which packs the workspace packages");
  return /\.[cm]?js$/.test(execPath) ? [process.execPath, execPath] : [execPath];
}
