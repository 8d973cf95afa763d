// The real parts the browser tests and the bench run against, on loopback: a sotto-server, sottod processes
// (the bundled program, as users run it, serving the web UI) and in-process daemons for the other side.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Daemon } from "@sotto/daemon";
import { type ApiServer, serveApi } from "@sotto/daemon/api";
import { type Running, runProgram, startSottod } from "@sotto/daemon/testing/programs";
import { type SottoServer, startServer } from "@sotto/server";

/** apps/web/dist/www: what the tests serve (built by the package's build, which runs before its tests). */
export const WEB_DIR = fileURLToPath(new URL("../../dist/www/", import.meta.url));

const network = { allowPrivateAddress: true, plainHttpWebFinger: true, timeoutMs: 10_000 } as const;

export interface Sottod {
  readonly name: string;
  readonly actorId: string;
  readonly handle: string;
  readonly dataDir: string;
  readonly port: number;
  readonly webUrl: string;
  readonly pid: number;
  /** SIGKILL (a crash) or SIGTERM; resolves once it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again as a user would, without --api-port (sottod reuses its previous port). */
  restart(): Promise<Sottod>;
}

export interface InProcess {
  readonly name: string;
  readonly actorId: string;
  readonly handle: string;
  readonly dataDir: string;
  readonly daemon: Daemon;
  readonly api: ApiServer;
}

export interface WebWorld {
  readonly dir: string;
  readonly server: SottoServer;
  /** A user whose sottod runs as a program with the web UI on. */
  sottod(name: string): Promise<Sottod>;
  /**
   * A second sottod of `user`'s account, initialised with a link code (`sottod init --link CODE`) and
   * running; resolves with the comparison string its init printed.
   */
  linkedSottod(
    user: Sottod,
    deviceName: string,
    code: string,
  ): Promise<{ sottod: Sottod; comparison: string }>;
  /** A user whose daemon runs in this process, with its API. */
  inProcess(name: string): Promise<InProcess>;
  /** Runs `sotto` (the CLI) against a user's state dir; resolves with stdout. */
  cli(dataDir: string, args: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export async function createWebWorld(): Promise<WebWorld> {
  const dir = mkdtempSync(join(tmpdir(), "sotto-web-"));
  // Room for the hostile peer's 2 MB message (a server of the attacker's choosing would take it).
  const server = await startServer({ dataDir: join(dir, "server"), bodyLimit: 8 * 1024 * 1024 });
  const children = new Set<Running>();
  const inProcess: InProcess[] = [];
  const keyFile = (name: string) => {
    const file = join(dir, `${name}.key`);
    writeFileSync(file, randomBytes(32), { mode: 0o600 });
    return file;
  };
  const handleOf = (name: string) => `@${name}@${server.domain}`;
  const tokens = new Map<string, string>();
  const init = async (name: string, args: readonly string[]): Promise<string> => {
    const ran = await runProgram(
      "sottod",
      ["init", ...args, "--allow-private-address", "--plain-http-webfinger"],
      "",
    );
    if (ran.code !== 0) throw new Error(`sottod init ${name} failed (${ran.code}):\n${ran.stderr}`);
    return ran.stdout;
  };

  const run = async (
    name: string,
    actorId: string,
    dataDir: string,
    key: string,
    port: number | undefined,
  ): Promise<Sottod> => {
    const args = ["--data", dataDir, "--key-file", key, "--web-dir", WEB_DIR];
    if (port !== undefined) args.push("--api-port", String(port));
    const running = await startSottod(args);
    children.add(running);
    void running.exited.then(() => children.delete(running));
    const bound = Number(new URL(running.webUrl ?? running.url).port);
    return {
      name,
      actorId,
      handle: handleOf(name),
      dataDir,
      port: bound,
      webUrl: running.webUrl ?? "",
      pid: running.pid,
      async stop(signal = "SIGTERM") {
        await running.stop(signal);
      },
      // As a user restarts it (no --api-port): it comes back on its previous port, the page's origin.
      restart: () => run(name, actorId, dataDir, key, undefined),
    };
  };

  return {
    dir,
    server,
    async sottod(name) {
      const { actorId, token } = await server.createUser(name);
      tokens.set(actorId, token);
      const dataDir = join(dir, name);
      const key = keyFile(name);
      await init(name, ["--data", dataDir, "--actor", actorId, "--token", token, "--key-file", key]);
      return run(name, actorId, dataDir, key, undefined);
    },
    async linkedSottod(user, deviceName, code) {
      const dataDir = join(dir, deviceName);
      const key = keyFile(deviceName);
      const printed = await init(deviceName, [
        ...["--data", dataDir, "--actor", user.actorId, "--token", tokens.get(user.actorId) ?? ""],
        ...["--key-file", key, "--device-name", deviceName, "--link", code],
      ]);
      const { comparison } = JSON.parse(printed) as { comparison?: string };
      if (comparison === undefined) throw new Error(`sottod init --link printed no comparison:\n${printed}`);
      return { sottod: await run(user.name, user.actorId, dataDir, key, undefined), comparison };
    },
    async inProcess(name) {
      const { actorId, token } = await server.createUser(name);
      const dataDir = join(dir, name);
      const daemon = await Daemon.init({
        dataDir,
        key: { keyFile: keyFile(name) },
        actor: actorId,
        token,
        network,
        pollIntervalMs: 200,
      });
      await daemon.start();
      await daemon.maintainKeyPackages();
      const api = await serveApi(daemon, { stateDir: dataDir });
      const user = { name, actorId, handle: handleOf(name), dataDir, daemon, api };
      inProcess.push(user);
      return user;
    },
    async cli(dataDir, args) {
      const ran = await runProgram("sotto", ["--state-dir", dataDir, ...args], "");
      if (ran.code !== 0) throw new Error(`sotto ${args.join(" ")} failed (${ran.code}):\n${ran.stderr}`);
      return ran.stdout;
    },
    async close() {
      await Promise.all([...children].map((child) => child.stop("SIGKILL")));
      for (const user of inProcess) {
        await user.api.close().catch(() => {});
        await user.daemon.stop().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 500));
      await server.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
