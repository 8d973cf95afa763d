// Storage: units of work per second through @sotto/storage (encrypted, one transaction per unit,
// one message each) beside plain unencrypted node:sqlite inserts of the same rows, same pragmas.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Durability, openStore, type Unit } from "@sotto/storage";
import { emit, round } from "./report.js";

const STATE = randomBytes(2560); // an MLS group state at 2 members is about 2.5 KB

function unit(i: number): Unit {
  const id = `https://example.test/activities/${i}`;
  return {
    activityId: id,
    groups: [
      { id: "group-1", epoch: i, state: STATE, members: ["https://a.test/u/a", "https://b.test/u/b"] },
    ],
    messages: [
      {
        id: `https://example.test/messages/${i}`,
        conversation: "group-1",
        author: "https://b.test/u/b",
        at: 1_700_000_000_000 + i,
        direction: "in",
        state: "received",
        body: { text: `benchmark message number ${i}, of an ordinary length for a chat line` },
      },
    ],
    cursor: { name: "messages", position: id },
    events: [{ type: "message.received", data: { id: `https://example.test/messages/${i}` } }],
  };
}

/** The same rows written with plain prepared statements and no encryption. */
function baseline(path: string, n: number, durability: Durability): number {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = ${durability};
    CREATE TABLE groups (id TEXT PRIMARY KEY, epoch INTEGER, state BLOB, members TEXT, info TEXT, updated_at INTEGER);
    CREATE TABLE messages (id TEXT PRIMARY KEY, conversation TEXT, at INTEGER, direction TEXT, state TEXT,
      author TEXT, body TEXT, updated_at INTEGER);
    CREATE INDEX messages_by_conversation ON messages (conversation, at, id);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, position TEXT, updated_at INTEGER);
    CREATE TABLE processed (id TEXT PRIMARY KEY, at INTEGER) WITHOUT ROWID;
    CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT, data TEXT, at INTEGER);`);
  const s = {
    group: db.prepare(`INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
      epoch = excluded.epoch, state = excluded.state, members = excluded.members, updated_at = excluded.updated_at`),
    message: db.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    cursor: db.prepare(`INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET
      position = excluded.position, updated_at = excluded.updated_at`),
    seen: db.prepare("SELECT 1 FROM processed WHERE id = ?"),
    processed: db.prepare("INSERT INTO processed VALUES (?, ?)"),
    event: db.prepare("INSERT INTO events (type, data, at) VALUES (?, ?, ?)"),
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
  };
  const start = performance.now();
  for (let i = 1; i <= n; i++) {
    const u = unit(i);
    const at = Date.now();
    s.begin.run();
    s.seen.get(u.activityId as string);
    for (const g of u.groups ?? [])
      s.group.run(g.id, g.epoch, g.state, JSON.stringify(g.members), "null", at);
    for (const m of u.messages ?? []) {
      s.message.run(m.id, m.conversation, m.at, m.direction, m.state, m.author, JSON.stringify(m.body), at);
    }
    s.cursor.run(u.cursor?.name as string, u.cursor?.position as string, at);
    for (const e of u.events ?? []) s.event.run(e.type, JSON.stringify(e.data), at);
    s.processed.run(u.activityId as string, at);
    s.commit.run();
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return seconds;
}

async function store(dir: string, path: string, n: number, durability: Durability): Promise<number> {
  const keyFile = join(dir, "key");
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const s = await openStore({ path, key: { keyFile }, durability });
  const start = performance.now();
  for (let i = 1; i <= n; i++) s.apply(unit(i));
  const seconds = (performance.now() - start) / 1000;
  s.close();
  return seconds;
}

interface Figures {
  readonly unitsPerSecond: number;
  readonly baselineUnitsPerSecond: number;
  readonly ratio: number;
}

/** Interleaved rounds, best of each: the machine is shared and noisy. */
async function compare(dir: string, n: number, durability: Durability, rounds: number): Promise<Figures> {
  const best = { baseline: Number.POSITIVE_INFINITY, store: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["baseline", "store"] as const) {
      const path = join(dir, `${kind}-${durability}-${r}.db`);
      const seconds =
        kind === "baseline" ? baseline(path, n, durability) : await store(dir, path, n, durability);
      best[kind] = Math.min(best[kind], seconds);
      emit({
        bench: "storage",
        case: kind,
        durability,
        round: r,
        units: n,
        seconds: round(seconds),
        unitsPerSecond: Math.round(n / seconds),
      });
    }
  }
  return {
    unitsPerSecond: Math.round(n / best.store),
    baselineUnitsPerSecond: Math.round(n / best.baseline),
    ratio: round(best.store / best.baseline, 2),
  };
}

export async function main(args: string[]): Promise<void> {
  const flag = args.indexOf("--units");
  const n = flag >= 0 ? Number(args[flag + 1]) : 3000;
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-storage-"));
  try {
    // `full` (the store's default) fsyncs every commit, so the disk dominates; `normal` shows
    // the cost of the encryption itself.
    const normal = await compare(dir, n, "normal", 3);
    const full = await compare(dir, n, "full", 3);
    emit({
      bench: "storage",
      units: n,
      durability: "full",
      ...full,
      normal,
      target: { unitsPerSecond: 2000, ratio: 3 },
      met: full.unitsPerSecond >= 2000 && full.ratio <= 3,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
