// A Fediverse user for tests and benchmarks: an account on a loopback sotto-server and a running sottod.
import { createLogger, Daemon } from "@sotto/daemon";

export interface SottodUser {
  readonly daemon: Daemon;
  readonly actorId: string;
  readonly token: string;
}

/** Where a user is created: a `SottoServer` in this process, or a server process through its CLI. */
export interface Home {
  createUser(name: string): Promise<{ readonly actorId: string; readonly token: string }>;
}

/** Creates `name` on `home` and starts its sottod in `dataDir` (cheap key stretching: tests, not secrets). */
export async function startSottod(
  home: Home,
  name: string,
  dataDir: string,
  options: { readonly pollIntervalMs?: number } = {},
): Promise<SottodUser> {
  const { actorId, token } = await home.createUser(name);
  const daemon = await Daemon.init({
    dataDir,
    key: { passphrase: `${name}'s passphrase` },
    argon2id: { memory: 8, passes: 1, parallelism: 1 },
    actor: actorId,
    token,
    network: { allowPrivateAddress: true, plainHttpWebFinger: true },
    logger: createLogger({ level: "error" }),
    ...options,
  });
  try {
    await daemon.maintainKeyPackages();
    await daemon.start();
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  return { daemon, actorId, token };
}
