// Two real sotto-servers on loopback, federating: alice on A, bob on B, each in a throwaway data directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerOptions, type SottoServer, startServer } from "../server.js";
import { testDatabase } from "../testing/mariadb.js";

export interface User {
  readonly actorId: string;
  readonly token: string;
}

export interface TwoServers {
  /** Alice's server; throws while stopped by `stopA`. */
  readonly a: SottoServer;
  readonly b: SottoServer;
  readonly alice: User;
  readonly bob: User;
  /** A's and B's data directories. */
  readonly dataDirs: readonly [string, string];
  /** A's and B's storage options (`dataDir`, and `database` when the tests run on MariaDB). */
  readonly storage: readonly [
    Pick<ServerOptions, "dataDir" | "database">,
    Pick<ServerOptions, "dataDir" | "database">,
  ];
  /** Stops A, keeping its data directory and port for `startA`. */
  stopA(): Promise<void>;
  /** Starts A again on its data directory and port. */
  startA(): Promise<SottoServer>;
  /** Stops both servers and removes their data. */
  close(): Promise<void>;
}

/** Starts the pair; `optionsA` adds to A's options (e.g. a small `bodyLimit`). */
export async function startTwoServers(optionsA: Partial<ServerOptions> = {}): Promise<TwoServers> {
  const dataDirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "sotto-server-"))) as [string, string];
  let a: SottoServer | undefined;
  let b: SottoServer | undefined;
  const close = async () => {
    await a?.close();
    await b?.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const storage = [
      { dataDir: dataDirs[0], ...(await testDatabase()) },
      { dataDir: dataDirs[1], ...(await testDatabase()) },
    ] as const;
    a = await startServer({ ...optionsA, ...storage[0] });
    const port = Number(new URL(a.origin).port);
    b = await startServer(storage[1]);
    const alice = await a.createUser("alice");
    const bob = await b.createUser("bob");
    const running = b;
    return {
      get a() {
        if (a === undefined) throw new Error("server A is stopped");
        return a;
      },
      b: running,
      alice,
      bob,
      dataDirs,
      storage,
      async stopA() {
        await a?.close();
        a = undefined;
      },
      async startA() {
        a = await startServer({ ...optionsA, ...storage[0], port });
        return a;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
