// The interop corpus: application data (the decrypted payload of an MLS application message) as the spec's
// examples and the live peers write it, each with what a receiving implementation must do with it. Plain JSON
// under `fixtures/`, so that any implementation can run it; this module loads it and fills in its placeholders.
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

/** What reading the data must give: an activity of this type, data kept as unsupported, or a typed error. */
export type CoreExpectation =
  | { readonly type: string }
  | { readonly unsupported: true }
  | { readonly error: string };

/**
 * What the receiver must show afterwards, through its API (Sotto's `messages.*` results):
 * - `message`: a new message, with these fields (a subset of the API's Message);
 * - `edit`: the message `before[0]` created now has these fields and an `editedAt`;
 * - `deleted`: the message `before[0]` created is deleted;
 * - `reactions`: the message `before[0]` created has exactly these reactions;
 * - `readBy`: the message `before[0]` created was read by these actors;
 * - `receipt`: a receipt of this kind for the message `before[0]` created;
 * - `title`: the conversation's title is now this (no message appears);
 * - `nothing`: no message appears and nothing changes (refused or ignored), and the history stays listable.
 */
export type Expectation =
  | { readonly shows: "message"; readonly message: Readonly<Record<string, unknown>> }
  | { readonly shows: "edit"; readonly message: Readonly<Record<string, unknown>> }
  | { readonly shows: "deleted" }
  | { readonly shows: "reactions"; readonly reactions: readonly { emoji: string; actors: string[] }[] }
  | { readonly shows: "readBy"; readonly readBy: readonly string[] }
  | { readonly shows: "receipt"; readonly kind: "read" | "delivered" }
  | { readonly shows: "title"; readonly title: string }
  | { readonly shows: "nothing" };

export interface Fixture {
  readonly name: string;
  /** Where the shape comes from (a spec example, a peer's source, an issue). */
  readonly source: string;
  /** The file it is in (`spec`, `emissary`, `bonfire`, `limits`). */
  readonly file: string;
  /** Application data the same sender sends first (what `data` refers to), in order. */
  readonly before?: readonly Record<string, unknown>[];
  readonly data: Record<string, unknown>;
  readonly core: CoreExpectation;
  readonly expect: Expectation;
}

/**
 * Placeholders in the JSON: `$SENDER` (the sending actor's id), `$RECIPIENT` (the receiving actor's id),
 * `$GROUP` (the group id), `$BYTES:<n>` (base64 of n bytes) and, in expectations only, `$MESSAGE:<i>` (the
 * receiver's id of the message `before[i]` created). Every `uri:uuid:`/`urn:uuid:` id is replaced by a fresh one
 * per run (consistently within a fixture, keeping its spelling), so fixtures never collide in one conversation.
 */
export interface Bindings {
  readonly sender: string;
  readonly recipient: string;
  readonly group: string;
}

const FIXTURES = new URL("../fixtures/", import.meta.url);

/** Every fixture of the corpus, file by file. */
export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .flatMap((name) =>
      (JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as Omit<Fixture, "file">[]).map((f) => ({
        ...f,
        file: name.replace(/\.json$/, ""),
      })),
    );
}

const UUID_ID = /^(ur[in]:uuid:)([0-9a-fA-F-]{36})$/;

/** A fixture's data with its placeholders filled in and fresh ids. */
export function instantiate(fixture: Fixture, bindings: Bindings): Fixture {
  const fresh = new Map<string, string>();
  const fill = (value: unknown): unknown => {
    if (typeof value === "string") {
      const uuid = UUID_ID.exec(value);
      if (uuid !== null) {
        const [, scheme = "", id = ""] = uuid;
        const key = id.toLowerCase();
        const replacement = fresh.get(key) ?? randomUUID();
        fresh.set(key, replacement);
        return `${scheme}${id === id.toUpperCase() ? replacement.toUpperCase() : replacement}`;
      }
      const bytes = /^\$BYTES:(\d+)$/.exec(value);
      if (bytes !== null) return Buffer.alloc(Number(bytes[1]), 1).toString("base64");
      return value
        .replaceAll("$SENDER", bindings.sender)
        .replaceAll("$RECIPIENT", bindings.recipient)
        .replaceAll("$GROUP", bindings.group);
    }
    if (Array.isArray(value)) return value.map(fill);
    if (typeof value === "object" && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return {
    ...fixture,
    ...(fixture.before === undefined
      ? {}
      : { before: fixture.before.map((b) => fill(b) as Record<string, unknown>) }),
    data: fill(fixture.data) as Record<string, unknown>,
    expect: fill(fixture.expect) as Expectation,
  };
}
