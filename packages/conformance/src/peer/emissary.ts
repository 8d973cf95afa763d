// A peer that behaves as Emissary's client does on the wire (shared/spec/peers-on-the-wire.md, from the source
// of EmissarySocial/conversations-mls): ts-mls 2.0 release candidate, one KeyPackage published with Create
// only, `uri:uuid:` group and message ids, envelopes with `instrument` and no `summary`, inner objects with
// `actor`, `attributedTo`, `to`, `context` and `"inReplyTo": ""`, Remove commits typed `GroupInfo` (and, from
// the release candidate, without an UpdatePath). It lives on a real server and talks C2S with a bearer token.
import { randomUUID } from "node:crypto";
import { Account, ActivityPubClient } from "@sotto/activitypub";
import {
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  decode,
  defaultCapabilities,
  defaultCredentialTypes,
  defaultProposalTypes,
  encode,
  generateKeyPackage,
  getCiphersuiteImpl,
  getGroupMembers,
  joinGroup,
  type KeyPackage,
  keyPackageDecoder,
  keyPackageEncoder,
  type MlsContext,
  type MlsFramedMessage,
  mlsMessageDecoder,
  mlsMessageEncoder,
  nodeTypes,
  type PrivateKeyPackage,
  processMessage,
  unsafeTestingAuthenticationService,
  wireformats,
} from "ts-mls-rc";

const AS = "https://www.w3.org/ns/activitystreams";
const MLS = "https://purl.archive.org/socialweb/mls";
const SUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const utf8 = (text: string) => new TextEncoder().encode(text);
const year = 365n * 24n * 3600n;

export const network = { allowPrivateAddress: true, plainHttpWebFinger: true, timeoutMs: 10_000 } as const;

/** A decrypted application message and who sent it (the leaf's credential). */
export interface Decrypted {
  readonly sender: string;
  readonly data: Record<string, unknown>;
}

export class EmissaryPeer {
  readonly actorId: string;
  readonly account: Account;
  readonly #context: MlsContext;
  readonly #keyPackage: { publicPackage: KeyPackage; privatePackage: PrivateKeyPackage };
  readonly generator = `uri:uuid:${randomUUID()}`;
  state: ClientState | undefined;
  #cursor: string | undefined;
  /** Application data decrypted so far, oldest first. */
  readonly received: Decrypted[] = [];

  private constructor(
    actorId: string,
    account: Account,
    context: MlsContext,
    keyPackage: { publicPackage: KeyPackage; privatePackage: PrivateKeyPackage },
  ) {
    this.actorId = actorId;
    this.account = account;
    this.#context = context;
    this.#keyPackage = keyPackage;
  }

  /** A user on `server` (its `createUser`) with one device whose KeyPackage is published with Create only. */
  static async create(
    server: {
      createUser(name: string): Promise<{ actorId: string; token: string }>;
    },
    name: string,
  ): Promise<EmissaryPeer> {
    const { actorId, token } = await server.createUser(name);
    const cipherSuite = await getCiphersuiteImpl(SUITE);
    const context: MlsContext = { cipherSuite, authService: unsafeTestingAuthenticationService };
    const now = BigInt(Math.floor(Date.now() / 1000));
    const keyPackage = await generateKeyPackage({
      credential: { credentialType: defaultCredentialTypes.basic, identity: utf8(actorId) },
      capabilities: defaultCapabilities(),
      lifetime: { notBefore: now - 3600n, notAfter: now + year },
      cipherSuite,
    });
    const account = new Account(new ActivityPubClient(network), actorId, token);
    const peer = new EmissaryPeer(actorId, account, context, keyPackage);
    await account.post({
      "@context": [AS, MLS],
      type: "Create",
      actor: actorId,
      to: "Public",
      object: {
        type: "KeyPackage",
        attributedTo: actorId,
        to: "Public",
        mediaType: "message/mls",
        encoding: "base64",
        content: b64(encode(keyPackageEncoder, keyPackage.publicPackage)),
        summary: "An MLS KeyPackage",
        generator: { id: peer.generator, type: "Application", name: "Emissary" },
        ciphersuite: SUITE,
      },
    });
    return peer;
  }

  get groupId(): string {
    if (this.state === undefined) throw new Error("no group yet");
    return new TextDecoder().decode(this.state.groupContext.groupId);
  }

  /** Member actors of the group, this one included. */
  members(): string[] {
    if (this.state === undefined) return [];
    return [...new Set(getGroupMembers(this.state).map(identityOf))];
  }

  /** The KeyPackages an actor lists (raw or framed content), fetched over HTTP as any peer would. */
  async keyPackagesOf(actorId: string): Promise<KeyPackage[]> {
    const client = this.account.client;
    const actor = (await client.getObject(actorId)) as { keyPackages?: unknown };
    const packages: KeyPackage[] = [];
    for await (const item of client.items(actor.keyPackages as string)) {
      const object = (typeof item === "string" ? await client.getObject(item) : item) as { content?: string };
      const keyPackage = readKeyPackageContent(Buffer.from(object.content ?? "", "base64"));
      if (keyPackage !== undefined) packages.push(keyPackage);
    }
    return packages;
  }

  /** Creates a group (`uri:uuid:` id) with every device of `invitees`: a Welcome to them, as Emissary does. */
  async createGroup(invitees: readonly string[]): Promise<string> {
    const groupId = `uri:uuid:${randomUUID().toUpperCase()}`;
    this.state = await createGroup({
      context: this.#context,
      groupId: utf8(groupId),
      keyPackage: this.#keyPackage.publicPackage,
      privateKeyPackage: this.#keyPackage.privatePackage,
    });
    await this.add(invitees);
    return groupId;
  }

  /** Adds every device `actors` list (one commit): the commit to the others, the Welcome to them. */
  async add(actors: readonly string[]): Promise<void> {
    const state = this.#state();
    const others = this.members().filter((a) => a !== this.actorId);
    const keyPackages = (await Promise.all(actors.map((a) => this.keyPackagesOf(a)))).map((list) => {
      const first = list[0];
      if (first === undefined) throw new Error("an invitee lists no KeyPackage");
      return first;
    });
    const result = await createCommit({
      context: this.#context,
      state,
      ratchetTreeExtension: true,
      extraProposals: keyPackages.map((keyPackage) => ({
        proposalType: defaultProposalTypes.add,
        add: { keyPackage },
      })),
    });
    this.state = result.newState;
    if (others.length > 0)
      await this.#post("PrivateMessage", others, encode(mlsMessageEncoder, result.commit));
    if (result.welcome !== undefined)
      await this.#post("Welcome", actors, encode(mlsMessageEncoder, result.welcome));
  }

  /**
   * Removes an actor's leaves in one commit per leaf, typed `GroupInfo` as Emissary sends removals. With one
   * Remove the release candidate leaves out the UpdatePath that RFC 9420 §12.4 requires.
   */
  async remove(actor: string): Promise<Uint8Array> {
    const leaves = this.#state().ratchetTree.flatMap((node, index) =>
      node?.nodeType === nodeTypes.leaf && identityOf(node.leaf) === actor ? [index / 2] : [],
    );
    const recipients = this.members().filter((a) => a !== this.actorId);
    let commit: Uint8Array = new Uint8Array();
    for (const removed of leaves) {
      const result = await createCommit({
        context: this.#context,
        state: this.#state(),
        ratchetTreeExtension: true,
        extraProposals: [{ proposalType: defaultProposalTypes.remove, remove: { removed } }],
      });
      this.state = result.newState;
      commit = encode(mlsMessageEncoder, result.commit);
      await this.#post("GroupInfo", recipients, commit);
    }
    return commit;
  }

  /** Encrypts application data for the group and posts it to every other member. */
  async send(data: Record<string, unknown>): Promise<void> {
    await this.#post("PrivateMessage", this.#others(), await this.encrypt(data));
  }

  /** The MLSMessage bytes of application data, without posting them. */
  async encrypt(data: Record<string, unknown>): Promise<Uint8Array> {
    const result = await createApplicationMessage({
      context: this.#context,
      state: this.#state(),
      message: utf8(JSON.stringify(data)),
    });
    this.state = result.newState;
    return encode(mlsMessageEncoder, result.message);
  }

  /** An envelope as Emissary posts it (the server assigns the activity's id). */
  envelope(type: string, to: readonly string[], bytes: Uint8Array): Record<string, unknown> {
    const group = this.state === undefined ? undefined : this.groupId;
    return emissaryEnvelope({ actor: this.actorId, generator: this.generator, group }, type, to, bytes);
  }

  /** A Note as Emissary's client writes it: `uri:uuid:` id, inner actor/to/context, `"inReplyTo": ""`. */
  note(content: string, options: { id?: string; inReplyTo?: string } = {}): Record<string, unknown> {
    const to = this.#others();
    const id = options.id ?? `uri:uuid:${randomUUID().toUpperCase()}`;
    const object = {
      type: "Note",
      id,
      attributedTo: this.actorId,
      actor: this.actorId,
      to,
      context: this.groupId,
      content,
      inReplyTo: options.inReplyTo ?? "",
    };
    return {
      "@context": AS,
      type: "Create",
      id: `uri:uuid:${randomUUID().toUpperCase()}`,
      actor: this.actorId,
      to,
      context: this.groupId,
      object,
    };
  }

  /** Reads the inbox from where it stopped: joins on a Welcome, applies commits, decrypts messages. */
  async poll(): Promise<void> {
    for await (const item of this.account.catchUp({ after: this.#cursor ?? "" })) {
      if (item.id !== undefined) this.#cursor = item.id;
      const object = (item.activity as { object?: { content?: unknown } }).object;
      if (typeof object?.content !== "string") continue;
      const message = decode(mlsMessageDecoder, Buffer.from(object.content, "base64"));
      if (message === undefined) continue;
      if (message.wireformat === wireformats.mls_welcome) {
        if (this.state !== undefined) continue;
        this.state = await joinGroup({
          context: this.#context,
          welcome: message.welcome,
          keyPackage: this.#keyPackage.publicPackage,
          privateKeys: this.#keyPackage.privatePackage,
        });
        continue;
      }
      if (
        this.state === undefined ||
        (message.wireformat !== wireformats.mls_private_message &&
          message.wireformat !== wireformats.mls_public_message)
      )
        continue;
      const result = await processMessage({
        context: this.#context,
        state: this.state,
        message: message as MlsFramedMessage,
      }).catch(() => undefined);
      if (result === undefined) continue;
      this.state = result.newState;
      if (result.kind === "applicationMessage") {
        const sender = (item.activity as { actor?: string }).actor ?? "";
        this.received.push({ sender, data: JSON.parse(new TextDecoder().decode(result.message)) });
      }
    }
  }

  #others(): string[] {
    return this.members().filter((a) => a !== this.actorId);
  }

  #state(): ClientState {
    if (this.state === undefined) throw new Error("no group yet");
    return this.state;
  }

  async #post(type: string, to: readonly string[], bytes: Uint8Array): Promise<void> {
    await this.account.post(this.envelope(type, to, bytes));
  }
}

/**
 * An MLS message in the envelope Emissary posts: `Create` with `instrument` (its device) and `context` (the
 * group id), the object with a single-string type, `attributedTo`, `to`, base64 `content`; no `summary`.
 */
export function emissaryEnvelope(
  from: { readonly actor: string; readonly generator: string; readonly group: string | undefined },
  type: string,
  to: readonly string[],
  bytes: Uint8Array,
): Record<string, unknown> {
  const context = from.group === undefined ? {} : { context: from.group };
  return {
    "@context": [AS, MLS],
    type: "Create",
    actor: from.actor,
    to,
    instrument: from.generator,
    ...context,
    object: {
      type,
      attributedTo: from.actor,
      to,
      content: b64(bytes),
      ...context,
      mediaType: "message/mls",
      encoding: "base64",
    },
  };
}

function identityOf(leaf: { credential: unknown }): string {
  return new TextDecoder().decode((leaf.credential as { identity: Uint8Array }).identity);
}

/**
 * A KeyPackage object's content: an MLSMessage framing a KeyPackage, or raw KeyPackage bytes (what Emissary and
 * Sotto publish). Read as an MLSMessage, a raw KeyPackage's first bytes say PublicMessage, and ts-mls 2.0 then
 * throws (rather than answering undefined) on about one KeyPackage in 300: that is not framed either.
 */
export function readKeyPackageContent(bytes: Uint8Array): KeyPackage | undefined {
  const framed = decodeOrUndefined(() => decode(mlsMessageDecoder, bytes));
  if (framed?.wireformat === wireformats.mls_key_package) return framed.keyPackage;
  return decodeOrUndefined(() => decode(keyPackageDecoder, bytes));
}

function decodeOrUndefined<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
