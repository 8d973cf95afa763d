import { join } from "node:path";

/** The demo's accounts: alice always, bob with `--demo`. */
export type AccountName = "alice" | "bob";

/** Where one demo account keeps its files. */
export interface AccountPaths {
  readonly name: AccountName;
  /** sottod's data dir: its encrypted store, the API token file and api.json. */
  readonly stateDir: string;
  /** The bearer token the embedded server issued for C2S (what `sottod init` is given). */
  readonly serverTokenFile: string;
  /** The store passphrase (first line; sottod reads it on stdin): generated, kept beside the store. Demo only. */
  readonly passphraseFile: string;
}

/** Everything under the demo's data dir (`.sotto/` by default; git-ignored). */
export interface Layout {
  readonly root: string;
  /** What is what, and the warning that it is for the demo only. */
  readonly readme: string;
  /** The server port and the accounts, kept so a second run reuses them. */
  readonly stateFile: string;
  /** sotto-server's SQLite database. */
  readonly serverDir: string;
  account(name: AccountName): AccountPaths;
}

export function layout(root: string): Layout {
  return {
    root,
    readme: join(root, "README-DEMO-ONLY.txt"),
    stateFile: join(root, "demo.json"),
    serverDir: join(root, "server"),
    account: (name) => ({
      name,
      stateDir: join(root, name),
      serverTokenFile: join(root, `${name}.server-token`),
      passphraseFile: join(root, `${name}.DEMO-ONLY.passphrase`),
    }),
  };
}
