import { existsSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import {
  ActivityPubClient,
  ActivityPubError,
  backoffDelay,
  Account as C2SAccount,
  defaultRetryPolicy,
  type ReceivedItem,
  sleep,
} from "@sotto/activitypub";
import type { Account, Contact, Conversation, Device, Message, Status, SyncState } from "@sotto/api";
import { ApiError } from "@sotto/api";
import {
  type ApplicationActivity,
  addMembers,
  canonicalApplicationId,
  createConversation,
  type DeviceIdentity,
  decodeDeviceIdentity,
  type EngineContext,
  encodeDeviceIdentity,
  encryptMessage,
  endorseKeyPackage,
  generateDeviceIdentity,
  generateKeyPackages,
  isActive,
  isLastResort,
  leaveConversation,
  MAX_HTML_LENGTH,
  MAX_INLINE_MEDIA_BYTES,
  type Conversation as MlsConversation,
  MlsEngineError,
  members,
  readApplicationData,
  readKeyPackage,
  readKeyPackagesProperty,
  removeDevices,
  removeMembers,
  SottoError,
  sanitizeHtmlField,
  sanitizeTextField,
  textToHtml,
  writeApplicationData,
  writeKeyPackageObject,
} from "@sotto/core";
import {
  type Argon2idParams,
  type Durability,
  type EventInput,
  type MessageCursor,
  type OutboxChange,
  openStore,
  type Store,
  type StoreKey,
  type Unit,
} from "@sotto/storage";
import { ActorDirectory } from "./actors.js";
import {
  type Attachment,
  conversationTitle,
  createNote,
  deleteNote,
  intentOf,
  like,
  noteBody,
  read,
  unlike,
  updateNote,
  wireIdOf,
} from "./appdata.js";
import { Applier } from "./applier.js";
import { fingerprintText } from "./contacts.js";
import {
  type AccountSettings,
  CURSOR_RECEIVED,
  type DaemonContext,
  DEVICE_KEY_ID,
  type NetworkSettings,
  SETTINGS_ACCOUNT,
} from "./context.js";
import { type ConversationInfo, type DeviceLink, newConversationInfo } from "./conversationInfo.js";
import { Counters } from "./counters.js";
import { DecryptAhead } from "./decryptAhead.js";
import {
  comparisonString,
  type DeviceSync,
  type HistoryMessage,
  historyChunks,
  LINK_CODE_TTL_MS,
  linkGroupId,
  newLinkCode,
  readLinkCodes,
  SETTINGS_LINK_CODES,
  writeDeviceSync,
} from "./deviceLink.js";
import { effectOf } from "./effects.js";
import { type Endorsements, endorsedDevices } from "./endorsement.js";
import { actorError, mlsToApi } from "./errors.js";
import { event } from "./events.js";
import {
  contactUpdates,
  groupRecord,
  type LoadedConversation,
  loadConversation,
  memberActors,
  queueMls,
  recipientsOf,
} from "./groups.js";
import { Handles } from "./handles.js";
import { deviceIdOf, Inbound, retireKeyPackage } from "./inbound.js";
import { KeyPackagePool, type KeyPackagePoolOptions, keyPackageSecrets } from "./keyPackagePool.js";
import { createLogger, errorFields, type Logger } from "./log.js";
import { type OutboxPolicy, OutboxWorker } from "./outbox.js";
import { ReadAhead } from "./readAhead.js";
import { Serial } from "./serial.js";
import { VERSION } from "./version.js";
import { contactView, conversationView, messageView } from "./view.js";

export { VERSION };

/** The store file inside the data directory. */
export const STORE_FILE = "sotto.db";

/**
 * At most this many received activities share one store transaction. Each commit writes every page the batch
 * touched to the write-ahead log, and the ids' indexes (random keys) are touched all over: at 100 a
 * catch-up's commits took a fifth of the store's CPU; at 400 the main thread spent ~9% less per message.
 */
const RECEIVE_BATCH = 400;

/**
 * A receive batch lets the event loop turn at least this often: the read of the next page (and everything
 * else waiting on I/O) would otherwise wait for the batch.
 */
const RECEIVE_TURN_MS = 5;

/**
 * How many received items are read ahead of the batch applying them (pages and more): the decrypt-ahead
 * worker's lead. More is not faster, and each item in flight outlives the young generation sooner.
 */
const READ_AHEAD = RECEIVE_BATCH;

export interface DaemonOptions {
  /** Directory of the encrypted store (created 0700 by `init`). */
  readonly dataDir: string;
  readonly key: StoreKey;
  readonly logger?: Logger;
  /**
   * Largest inline attachments accepted for sending, in bytes in all (default and most 512 KiB, what receivers
   * accept, `MAX_INLINE_MEDIA_BYTES`: base64 of it fits a 1 MiB request).
   */
  readonly maxAttachmentBytes?: number;
  readonly keyPackages?: Partial<KeyPackagePoolOptions>;
  /**
   * When the member who should commit a leave is away: how long the next one waits before committing it
   * (default 30 s; the one after waits twice as long).
   */
  readonly leaveCommitDelayMs?: number;
  readonly outbox?: Partial<OutboxPolicy>;
  /** How often to poll a server that offers no event stream. */
  readonly pollIntervalMs?: number;
  /**
   * `full` (default): a unit survives power loss, so a sent message's MLS state change is never rolled back
   * (which would reuse its key and nonce). `normal` may lose the last commits on power loss.
   */
  readonly durability?: Durability;
  /** Argon2id cost for a passphrase-protected store (tests use a cheap one). */
  readonly argon2id?: Argon2idParams;
  /** What a newly linked device gets of each conversation's history (default: 30 days, 1,000 messages). */
  readonly history?: { readonly maxAgeMs?: number; readonly maxMessages?: number };
  /** How long a link code stays valid (default 10 minutes). */
  readonly linkCodeTtlMs?: number;
  readonly now?: () => number;
  /**
   * How this device's HTTP requests are made (default: @sotto/activitypub's, node:http with keep-alive).
   * sotto-xmpp hands its puppets one that answers requests for its embedded server in-process
   * (`SottoServer.fetch`). Not stored: give it at every `open`.
   */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Decrypt application messages of a catch-up ahead on a worker thread (default true; see decryptAhead.ts).
   * Off, everything runs on the main thread as before (paired benches, tests comparing the two). `"wait"`: a
   * catch-up waits for the worker to load rather than doing its first messages on the main thread meanwhile
   * (tests that need the worker to take a known share of a small backlog).
   */
  readonly decryptAhead?: boolean | "wait";
}

export interface InitOptions extends DaemonOptions {
  /** The account: a handle `@user@host` or the actor id URL. */
  readonly actor: string;
  /** The bearer token the home server issued for C2S. */
  readonly token: string;
  readonly deviceName?: string;
  readonly network?: NetworkSettings;
}

export interface SendOptions {
  readonly inReplyTo?: string;
  /** `text/plain` (default) or `text/html` (receivers sanitize it). */
  readonly mediaType?: "text/plain" | "text/html";
  readonly attachments?: readonly Attachment[];
}

/** Typed errors of the daemon's own life cycle (the operations throw @sotto/api's ApiError). */
export class DaemonError extends SottoError<"exists" | "not_initialized" | "bad_token"> {}

/**
 * sottod: one account, one MLS device. Owns the keys and the encrypted store, keeps the KeyPackage pool
 * published, applies every received activity in one transaction, and sends through a persistent outbox.
 * The methods are what the local API (@sotto/api) exposes; they throw ApiError with the API's codes.
 */
export class Daemon {
  readonly store: Store;
  readonly counters: Counters;
  readonly log: Logger;
  readonly #ctx: DaemonContext;
  readonly #inbound: Inbound;
  readonly #applier: Applier;
  readonly #outbox: OutboxWorker;
  readonly #pool: KeyPackagePool;
  readonly #handleBook: Handles;
  readonly #options: DaemonOptions;
  #abort: AbortController | undefined;
  #loops: Promise<unknown>[] = [];
  /** The `published` time of the last message created here, in ms. */
  #lastCreatedAt = 0;
  #sync: SyncState = { state: "offline", lastSyncAt: null, error: null };
  #wakePool: (() => void) | undefined;
  #pendingPool = false;
  /** Settles when the first sync after `start` is in sync, offline or failed: KeyPackage upkeep waits for it. */
  #firstSync = Promise.withResolvers<void>();

  private constructor(
    store: Store,
    settings: AccountSettings,
    device: DeviceIdentity,
    options: DaemonOptions,
  ) {
    this.store = store;
    this.#options = options;
    this.counters = new Counters();
    this.log = (options.logger ?? createLogger()).child({ actor: settings.actorId });
    const client = new ActivityPubClient({
      allowPrivateAddress: settings.network.allowPrivateAddress,
      plainHttpWebFinger: settings.network.plainHttpWebFinger,
      timeoutMs: settings.network.timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const account = new C2SAccount(client, settings.actorId, settings.token);
    const conversations = new Map<string, LoadedConversation>();
    this.#applier = new Applier(store, conversations, this.log);
    const decryptAhead =
      options.decryptAhead === false
        ? undefined
        : new DecryptAhead({
            cached: (groupId) => conversations.get(groupId)?.conversation,
            replace: (groupId, conversation) => this.#applier.replaceState(groupId, conversation),
            counters: this.counters,
            log: this.log,
            waitForWorker: options.decryptAhead === "wait",
          });
    this.#ctx = {
      store,
      settings,
      device,
      generator: { id: `urn:uuid:${settings.deviceId}`, name: settings.deviceName },
      account,
      directory: new ActorDirectory(client),
      log: this.log,
      counters: this.counters,
      serial: new Serial(),
      now: options.now ?? Date.now,
      maxAttachmentBytes: Math.min(
        options.maxAttachmentBytes ?? MAX_INLINE_MEDIA_BYTES,
        MAX_INLINE_MEDIA_BYTES,
      ),
      leaveCommitDelayMs: options.leaveCommitDelayMs ?? 30_000,
      conversations,
      decryptAhead,
      apply: (unit, states, options) => this.#applier.apply(unit, states, options),
      wakeOutbox: () => this.#outbox.wake(),
      wakeKeyPackages: () => {
        this.#pendingPool = true;
        this.#wakePool?.();
      },
      learnHandles: (actorIds) => this.#handleBook.learn(actorIds),
      leaveOnThisDevice: (conversationId) => {
        // After the receive under way (which holds the Serial): the leave goes through it too.
        setImmediate(() => {
          this.#leave(conversationId, false).catch((error: unknown) =>
            this.log.warn("leave_from_other_device_failed", {
              conversation: conversationId,
              ...errorFields(error),
            }),
          );
        });
      },
    };
    this.#handleBook = new Handles(this.#ctx);
    this.#inbound = new Inbound(this.#ctx);
    this.#outbox = new OutboxWorker(store, account, this.log, this.counters, {
      policy: options.outbox,
      now: this.#ctx.now,
      apply: (unit, o) => this.#applier.apply(unit, [], o),
      beforePost: () => this.#applier.beforePost(),
    });
    this.#pool = new KeyPackagePool(this.#ctx, options.keyPackages);
  }

  /**
   * Sets up a new daemon: a new encrypted store in `dataDir`, this device's signature key, and the account
   * (checked against the server: the actor resolves and the token reads its messages).
   */
  static async init(options: InitOptions): Promise<Daemon> {
    const path = join(options.dataDir, STORE_FILE);
    if (existsSync(path)) throw new DaemonError("exists", `a store already exists at ${path}`);
    const network = options.network ?? {};
    const client = new ActivityPubClient({ ...network, ...(options.fetch ? { fetch: options.fetch } : {}) });
    const actor = await client.getActor(options.actor).catch((error: unknown) => {
      throw actorError(error, options.actor);
    });
    const keyPackages = readKeyPackagesProperty(actor.raw);
    const keyPackagesUrl = keyPackages.ok ? (keyPackages.value.id ?? keyPackages.value.next) : undefined;
    if (keyPackagesUrl === undefined) {
      throw new ApiError(
        "actor_not_found",
        `${actor.id} has no keyPackages collection: not an MLS-capable server`,
      );
    }
    await new C2SAccount(client, actor.id, options.token).page({ limit: 1 }).catch((error: unknown) => {
      if (error instanceof ActivityPubError && error.code === "unauthorized") {
        throw new DaemonError("bad_token", `the server refused the token for ${actor.id}`);
      }
      throw actorError(error, actor.id);
    });
    const device = await generateDeviceIdentity(actor.id);
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const store = await openStore({
      path,
      key: options.key,
      create: true,
      argon2id: options.argon2id,
      durability: options.durability ?? "full",
    });
    const settings: AccountSettings = {
      actorId: actor.id,
      handle: ActorDirectory.handleOf(actor) ?? actor.id,
      displayName: actor.name ?? null,
      token: options.token,
      keyPackagesUrl,
      deviceId: crypto.randomUUID(),
      deviceName: options.deviceName ?? `sottod on ${hostname()}`,
      network,
    };
    store.apply({
      deviceKeys: [
        {
          id: DEVICE_KEY_ID,
          publicKey: device.signaturePublicKey,
          privateKey: encodeDeviceIdentity(device),
          createdAt: Date.now(),
        },
      ],
      settings: { [SETTINGS_ACCOUNT]: settings as never },
    });
    return new Daemon(store, settings, device, options);
  }

  /** Opens an existing daemon's store (the key must unlock it). */
  static async open(options: DaemonOptions): Promise<Daemon> {
    const path = join(options.dataDir, STORE_FILE);
    if (!existsSync(path))
      throw new DaemonError("not_initialized", `no store at ${path}: run sottod init first`);
    const store = await openStore({
      path,
      key: options.key,
      create: false,
      durability: options.durability ?? "full",
    });
    try {
      const settings = store.setting(SETTINGS_ACCOUNT) as unknown as AccountSettings | undefined;
      const key = store.deviceKey(DEVICE_KEY_ID);
      const device = key === undefined ? undefined : decodeDeviceIdentity(key.privateKey);
      if (settings === undefined || device === undefined || !device.ok) {
        throw new DaemonError("not_initialized", `the store at ${path} has no account: run sottod init`);
      }
      return new Daemon(store, settings, device.value, options);
    } catch (error) {
      store.close();
      throw error;
    }
  }

  get actorId(): string {
    return this.#ctx.settings.actorId;
  }

  get running(): boolean {
    return this.#abort !== undefined && !this.#abort.signal.aborted;
  }

  /** Starts syncing, the outbox and KeyPackage upkeep. Resolves once running (the store is open already). */
  async start(): Promise<void> {
    if (this.running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#firstSync = Promise.withResolvers<void>();
    this.#loops = [
      this.#supervise("sync", () => this.#syncLoop(abort.signal), abort.signal),
      this.#supervise("outbox", () => this.#outbox.run(abort.signal), abort.signal),
      this.#supervise("key_packages", () => this.#poolLoop(abort.signal), abort.signal),
    ];
    this.log.info("ready", { version: VERSION });
  }

  /** Runs a loop for as long as the daemon runs: one that fails (a bug, a store error) is logged and restarted. */
  async #supervise(name: string, loop: () => Promise<void>, signal: AbortSignal): Promise<void> {
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        await loop();
      } catch (error) {
        if (signal.aborted) return;
        this.counters.add(`loop_failed.${name}`);
        this.log.error("loop_failed", { loop: name, ...errorFields(error) });
      }
      await sleep(
        backoffDelay(failures, { ...defaultRetryPolicy, baseDelayMs: 500, maxDelayMs: 60_000 }),
        signal,
      ).catch(() => {});
    }
  }

  /** Stops: network work is aborted, the transaction under way finishes, the store closes. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#inbound.close();
    await Promise.allSettled(this.#loops);
    await this.#ctx.serial.idle();
    this.#ctx.decryptAhead?.close();
    await this.#handleBook.close();
    this.#applier.close();
    // Closing checkpoints the write-ahead log, which syncs it: relaxed units are durable once stopped.
    this.store.close();
    this.log.info("stopped", {});
  }

  // ---- sync -------------------------------------------------------------------------------------------

  async #syncLoop(signal: AbortSignal): Promise<void> {
    // The reader runs ahead of what is applied: "in sync" is said once the items read before it reached the
    // stream (or the poll) are applied, so a client counting a catch-up's messages sees them all first.
    let ahead: ReadAhead<ReceivedItem> | undefined;
    let inSyncAfter: number | undefined;
    let applying = false;
    const settle = () => {
      if (inSyncAfter === undefined || applying || (ahead?.counts.taken ?? 0) < inSyncAfter) return;
      inSyncAfter = undefined;
      this.#setSync("idle", null);
    };
    const items = this.#ctx.account.follow({
      after: this.store.cursor(CURSOR_RECEIVED),
      signal,
      pollIntervalMs: this.#options.pollIntervalMs,
      onMode: (mode) => {
        if (mode === "catch_up") {
          inSyncAfter = undefined;
          this.#setSync("syncing", null);
          return;
        }
        inSyncAfter = ahead?.counts.read ?? 0;
        settle();
      },
      onError: (error) => {
        this.counters.add(`sync.error.${error.code}`);
        this.log.warn("sync_error", errorFields(error));
        inSyncAfter = undefined;
        this.#setSync(error.code === "network" ? "offline" : "error", error.message);
      },
    });
    ahead = this.#readAhead(items);
    await this.#receiveAll(ahead, signal, (running) => {
      applying = running;
      settle();
    });
  }

  /** Reads `items` ahead of the batches applying them; each read item is handed to decrypt ahead. */
  #readAhead(items: AsyncIterator<ReceivedItem>): ReadAhead<ReceivedItem> {
    const decryptAhead = this.#ctx.decryptAhead;
    return new ReadAhead(items, READ_AHEAD, decryptAhead && ((item) => decryptAhead.feed(item)));
  }

  /**
   * Applies every item `ahead` reads, in batches, until it ends or the signal aborts; `onBatch` is told when a
   * batch starts (true) and when it is applied (false).
   */
  async #receiveAll(
    ahead: ReadAhead<ReceivedItem>,
    signal?: AbortSignal,
    onBatch?: (running: boolean) => void,
  ): Promise<void> {
    try {
      while ((await ahead.wait()) && !signal?.aborted) {
        onBatch?.(true);
        try {
          await this.#ctx.serial.run(() => this.#receiveBatch(ahead, signal));
        } finally {
          onBatch?.(false);
        }
      }
    } finally {
      await ahead.close();
    }
  }

  /**
   * Applies the items already read, up to `RECEIVE_BATCH`, in one store batch: one commit and one disk sync
   * for all of them, each still all or nothing. Run through the Serial.
   */
  async #receiveBatch(ahead: ReadAhead<ReceivedItem>, signal: AbortSignal | undefined): Promise<void> {
    const receiveReady = async () => {
      let turned = performance.now();
      for (let n = 0; n < RECEIVE_BATCH && !signal?.aborted; n++) {
        if (performance.now() - turned >= RECEIVE_TURN_MS) {
          await nextTurn();
          turned = performance.now();
        }
        const item = ahead.take();
        if (item === undefined) break;
        await this.#inbound.receive(item);
      }
      // The states decrypted ahead come back before the batch writes its states (none stays in the worker).
      await this.#ctx.decryptAhead?.settleAll();
    };
    this.counters.add("received.batch");
    try {
      await this.#applier.batch(receiveReady);
    } catch (error) {
      // The batch left nothing in the store and the cache is cleared: what the worker went on from is gone.
      this.#ctx.decryptAhead?.reset();
      throw error;
    }
    // Live (in sync), each batch received is a sync: the last sync time moves while messages arrive.
    if (this.#sync.state === "idle") {
      this.#sync = { ...this.#sync, lastSyncAt: new Date(this.#ctx.now()).toISOString() };
    }
    // The outbox found nothing due while the batch was open.
    this.#outbox.wake();
  }

  #setSync(state: SyncState["state"], error: string | null): void {
    if (state !== "syncing") this.#firstSync.resolve();
    const lastSyncAt = state === "idle" ? new Date(this.#ctx.now()).toISOString() : this.#sync.lastSyncAt;
    if (state === this.#sync.state && error === this.#sync.error) {
      this.#sync = { ...this.#sync, lastSyncAt };
      return;
    }
    this.#sync = { state, lastSyncAt, error };
    if (this.running) this.#ctx.apply({ events: [event({ type: "sync.state", sync: this.#sync })] });
  }

  /** Reads everything the server has after the cursor now, and applies it. */
  async syncNow(): Promise<SyncState> {
    try {
      await this.#receiveAll(
        this.#readAhead(this.#ctx.account.catchUp({ after: this.store.cursor(CURSOR_RECEIVED) })),
      );
      this.#sync = { ...this.#sync, lastSyncAt: new Date(this.#ctx.now()).toISOString() };
      return this.#sync;
    } catch (error) {
      throw actorError(error, this.actorId);
    }
  }

  /**
   * Applies one received activity as sync does for each item it reads, for activities that came another way
   * (an import, another transport). The sync position does not move; items without an id are deduplicated by
   * their content.
   */
  async receive(item: ReceivedItem): Promise<void> {
    await this.#ctx.serial.run(() => this.#inbound.receive(item, { moveCursor: false }));
  }

  /**
   * Test hook: ends the decrypt-ahead worker as a crash would (false when none runs). Nothing is lost: what
   * it held is computed again on the main thread.
   */
  terminateDecryptAheadWorker(): boolean {
    return this.#ctx.decryptAhead?.terminateWorker() ?? false;
  }

  /** Flushes the outbox now (posting every due item); for tests and `sync.now`. */
  async flushOutbox(): Promise<void> {
    await this.#outbox.flush();
  }

  async #poolLoop(signal: AbortSignal): Promise<void> {
    // Upkeep starts once the first sync is done: Welcomes in a backlog may consume more of the pool, and
    // publishing beside a catch-up's first pages slowed them (apps/daemon README, "The start of a catch-up").
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      this.#firstSync.promise.then(done);
    });
    let failures = 0;
    while (!signal.aborted) {
      this.#pendingPool = false;
      let waitMs = 3600_000;
      try {
        await this.#pool.maintain(signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        this.counters.add("key_packages.error");
        this.log.warn("key_packages_failed", errorFields(error));
        waitMs = backoffDelay(failures++, { ...defaultRetryPolicy, baseDelayMs: 1000, maxDelayMs: 300_000 });
      }
      if (this.#pendingPool) continue;
      await new Promise<void>((resolve) => {
        this.#wakePool = resolve;
        sleep(waitMs, signal).then(resolve, resolve);
      });
      this.#wakePool = undefined;
    }
  }

  /** One round of KeyPackage upkeep now (publish missing, rotate, replace consumed). */
  async maintainKeyPackages(): Promise<number> {
    return this.#pool.maintain();
  }

  // ---- operations -------------------------------------------------------------------------------------

  #engine(): EngineContext {
    return { device: this.#ctx.device, fetcher: this.#ctx.directory, time: new Date(this.#ctx.now()) };
  }

  async #resolveAll(references: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const reference of references) {
      ids.push(
        await this.#ctx.directory
          .resolve(reference)
          .catch((error: unknown) => Promise.reject(actorError(error, reference))),
      );
    }
    return [...new Set(ids)];
  }

  #loaded(conversationId: string, options: { active?: boolean } = {}): LoadedConversation {
    const loaded = loadConversation(this.#ctx, conversationId);
    if (loaded === undefined)
      throw new ApiError("conversation_not_found", `no conversation ${conversationId.slice(0, 200)}`);
    if (options.active && (loaded.info.left || !isActive(loaded.conversation))) {
      throw new ApiError("not_a_member", "this account is no longer a member of the conversation");
    }
    return loaded;
  }

  /** Starts a conversation (a new MLS group) with these actors (handles or URLs). */
  async createConversation(params: { members: readonly string[]; title?: string }): Promise<Conversation> {
    const actors = (await this.#resolveAll(params.members)).filter((a) => a !== this.actorId);
    const title = titleOf(params.title);
    const created = await this.#ctx.serial.run(async () => {
      const created = await createConversation(this.#engine(), { members: actors }).catch(
        (error: unknown) => {
          throw mlsToApi(error);
        },
      );
      const at = this.#ctx.now();
      const { conversation } = created;
      const contacts = contactUpdates(
        this.#ctx,
        conversation,
        newConversationInfo(at, title),
        at,
        [],
        await endorsedDevices(this.#ctx, created.added),
      );
      const published = created.published.toISOString();
      this.#ctx.apply({
        at,
        groups: [groupRecord(conversation, contacts.info)],
        contacts: contacts.contacts,
        outbox:
          created.welcome === undefined
            ? []
            : queueMls(
                this.#ctx,
                conversation.groupId,
                created.welcome,
                created.welcomeRecipients,
                "welcome",
                { published },
              ),
        events: [
          event({ type: "conversation.created", conversationId: conversation.groupId }),
          ...contacts.events,
        ],
      });
      this.#ctx.wakeOutbox();
      this.log.info("conversation_created", {
        conversation: conversation.groupId,
        members: memberActors(conversation).length,
      });
      return conversation.groupId;
    });
    // After the Welcome, so that the members can read it.
    if (title !== null) await this.#shareTitle(created);
    return this.getConversation(created);
  }

  /** Names a conversation for every member (null: no name), as an Update of its context (see @sotto/core). */
  async setTitle(params: { conversationId: string; title: string | null }): Promise<Conversation> {
    const title = titleOf(params.title ?? undefined);
    const at = this.#ctx.now();
    const activity = conversationTitle(
      this.actorId,
      params.conversationId,
      title,
      new Date(at).toISOString(),
    );
    await this.#sendChange(params.conversationId, activity, at);
    return this.getConversation(params.conversationId);
  }

  /** Sends the conversation's current title to its members again (after a Welcome, for the new ones). */
  async #shareTitle(conversationId: string): Promise<void> {
    const { title } = this.#loaded(conversationId).info;
    if (title === null) return;
    const at = this.#ctx.now();
    await this.#sendChange(
      conversationId,
      conversationTitle(this.actorId, conversationId, title, new Date(at).toISOString()),
      at,
    );
  }

  /** Adds actors (every device they list) to a conversation. */
  async addMembers(params: { conversationId: string; members: readonly string[] }): Promise<Conversation> {
    const actors = await this.#resolveAll(params.members);
    await this.#ctx.serial.run(async () => {
      const loaded = this.#loaded(params.conversationId, { active: true });
      // Members already in the group are asked again too: a device they added since joins now.
      const outcome = await addMembers(this.#engine(), loaded.conversation, actors).catch(
        (error: unknown) => {
          if (
            error instanceof MlsEngineError &&
            error.code === "unusable" &&
            actors.every((a) => loaded.members.includes(a))
          ) {
            throw new ApiError("already_member", "every one of them is a member already, with every device");
          }
          throw mlsToApi(error);
        },
      );
      this.#commitLocally(loaded, outcome.conversation, await endorsedDevices(this.#ctx, outcome.added), [
        ...queueMls(this.#ctx, params.conversationId, outcome.commit, outcome.commitRecipients, "handshake", {
          published: outcome.published.toISOString(),
        }),
        ...(outcome.welcome === undefined
          ? []
          : queueMls(
              this.#ctx,
              params.conversationId,
              outcome.welcome,
              outcome.welcomeRecipients,
              "welcome",
              {
                published: outcome.published.toISOString(),
              },
            )),
      ]);
    });
    // New members learn the conversation's title from the members, after their Welcome.
    await this.#shareTitle(params.conversationId);
    return this.getConversation(params.conversationId);
  }

  /** Removes actors (all their devices) from a conversation; they are told by the commit and can read no more. */
  async removeMembers(params: { conversationId: string; members: readonly string[] }): Promise<Conversation> {
    const actors = await this.#resolveAll(params.members);
    return this.#ctx.serial.run(async () => {
      const loaded = this.#loaded(params.conversationId, { active: true });
      if (!actors.some((a) => loaded.members.includes(a)))
        throw new ApiError("not_a_member", "none of them is a member");
      const outcome = await removeMembers(this.#engine(), loaded.conversation, actors).catch(
        (error: unknown) => {
          throw mlsToApi(error);
        },
      );
      this.#commitLocally(
        loaded,
        outcome.conversation,
        new Map(),
        queueMls(this.#ctx, params.conversationId, outcome.commit, outcome.commitRecipients, "handshake", {
          published: outcome.published.toISOString(),
        }),
      );
      return this.getConversation(params.conversationId);
    });
  }

  /** Stores a commit this device made, with its membership event and the outbox items, in one transaction. */
  #commitLocally(
    loaded: LoadedConversation,
    conversation: MlsConversation,
    endorsed: Endorsements,
    outbox: OutboxChange[],
  ): void {
    const at = this.#ctx.now();
    const after = memberActors(conversation);
    const added = after.filter((a) => !loaded.members.includes(a));
    const removed = loaded.members.filter((a) => !after.includes(a));
    const contacts = contactUpdates(
      this.#ctx,
      conversation,
      { ...loaded.info, lastActivityAt: at },
      at,
      [],
      endorsed,
    );
    this.#ctx.apply({
      at,
      groups: [groupRecord(conversation, contacts.info)],
      contacts: contacts.contacts,
      outbox,
      events: [
        event({ type: "conversation.members_changed", conversationId: conversation.groupId, added, removed }),
        ...contacts.events,
      ],
    });
    this.#ctx.wakeOutbox();
  }

  /** Leaves a conversation: a self-remove proposal that another member commits. History stays readable. */
  async leaveConversation(params: { conversationId: string }): Promise<{ ok: true }> {
    this.#loaded(params.conversationId, { active: true });
    return this.#leave(params.conversationId, true);
  }

  /**
   * Leaves here and, when `tellOtherDevices`, asks this account's linked devices to leave too (the user left
   * from this one): each sends its own self-remove proposal, which another member commits.
   */
  async #leave(conversationId: string, tellOtherDevices: boolean): Promise<{ ok: true }> {
    const params = { conversationId };
    return this.#ctx.serial.run(async () => {
      const loaded = this.#loaded(params.conversationId);
      if (loaded.info.left || !isActive(loaded.conversation)) return { ok: true as const };
      if (tellOtherDevices)
        for (const group of this.#linkGroups("linked"))
          await this.#sendDeviceSync(group.id, { type: "Leave", conversation: conversationId });
      const outcome = await leaveConversation(loaded.conversation).catch((error: unknown) => {
        throw mlsToApi(error);
      });
      this.#ctx.apply({
        groups: [
          groupRecord(outcome.conversation, { ...loaded.info, left: true, lastActivityAt: this.#ctx.now() }),
        ],
        outbox: queueMls(this.#ctx, params.conversationId, outcome.proposal, outcome.recipients, "handshake"),
        events: [event({ type: "conversation.updated", conversationId: params.conversationId })],
      });
      this.#ctx.wakeOutbox();
      return { ok: true as const };
    });
  }

  /**
   * Encrypts one application activity for the conversation and stores the result, the outbox item and the
   * local effect (`unit`) in one transaction.
   */
  async #sendApplication(
    conversationId: string,
    activity: ApplicationActivity,
    local: (info: ConversationInfo) => { unit: Unit; info: ConversationInfo; messageId?: string },
  ): Promise<void> {
    const data = writeApplicationData(activity);
    // What receivers would refuse (over the limits every Sotto reads with) is not sent: one rule both ways.
    const readable = readApplicationData(data);
    if (!readable.ok) {
      throw new ApiError("invalid_params", `the message cannot be sent: ${readable.error.message}`);
    }
    // Receivers keep an overlong text cut; the sender refuses it instead, so that both sides show the same.
    const object = readable.value.type === "unsupported" ? undefined : readable.value.object;
    if (object?.form === "embedded" && object.value.contentLength !== undefined) {
      throw new ApiError(
        "invalid_params",
        `the message cannot be sent: its HTML is ${object.value.contentLength} characters long; at most ${MAX_HTML_LENGTH} can be sent`,
      );
    }
    await this.#ctx.serial.run(async () => {
      const loaded = this.#loaded(conversationId, { active: true });
      const { conversation, message } = await encryptMessage(loaded.conversation, data).catch(
        (error: unknown) => {
          throw mlsToApi(error);
        },
      );
      const effect = local(loaded.info);
      const recipients = recipientsOf(this.#ctx, conversation);
      const outbox = queueMls(this.#ctx, conversationId, message, recipients, "message", {
        messageId: effect.messageId,
        published: activity.published,
      });
      this.#ctx.apply(
        {
          ...effect.unit,
          outbox,
          // Alone in the group: nothing to post, the message is as sent as it gets.
          ...(outbox.length === 0 && effect.messageId !== undefined
            ? { messageStates: [{ id: effect.messageId, state: "sent" as const }] }
            : {}),
        },
        [{ conversation, info: effect.info, members: loaded.members }],
      );
      this.counters.add("sent.application");
      this.#ctx.wakeOutbox();
    });
  }

  /** Sends a text (or HTML) message, with optional reply target and inline attachments. */
  async sendMessage(params: { conversationId: string; text: string } & SendOptions): Promise<Message> {
    const total = (params.attachments ?? []).reduce((n, a) => n + a.data.byteLength, 0);
    if (total > this.#ctx.maxAttachmentBytes) {
      throw new ApiError(
        "invalid_params",
        `attachments hold ${total} bytes; at most ${this.#ctx.maxAttachmentBytes} can be sent inline`,
      );
    }
    const repliedTo =
      params.inReplyTo === undefined
        ? undefined
        : this.store.message(canonicalApplicationId(params.inReplyTo));
    if (params.inReplyTo !== undefined && repliedTo?.conversation !== params.conversationId) {
      throw new ApiError("message_not_found", "the message replied to is not in this conversation");
    }
    // Strictly after the previous one: messages are listed by time, and two sent within a millisecond must
    // keep their order here and at every receiver.
    const now = this.#ctx.now();
    const at = Math.max(now, this.#lastCreatedAt + 1);
    this.#lastCreatedAt = at;
    const published = new Date(at).toISOString();
    const { activity, note } = createNote({
      actor: this.actorId,
      html: params.mediaType === "text/html" ? sanitizeHtmlField(params.text) : textToHtml(params.text),
      // The id as its author sent it: peers recognise their own ids byte for byte.
      inReplyTo: repliedTo === undefined ? undefined : wireIdOf(repliedTo),
      attachments: params.attachments,
      published,
    });
    const messageId = note.id as string;
    const body = noteBody(note);
    await this.#sendApplication(params.conversationId, activity, (info) => ({
      messageId,
      info: { ...info, lastActivityAt: at, lastMessageId: messageId, readMarker: messageId, unread: 0 },
      unit: {
        // When it is written (the outbox posts from then on); the message's own time may be a little later.
        at: now,
        messages: [
          {
            id: messageId,
            conversation: params.conversationId,
            author: this.actorId,
            at,
            direction: "out",
            state: "queued",
            body: body as never,
          },
        ],
        events: [
          event({ type: "message.created", conversationId: params.conversationId, messageId }),
          event({
            type: "outbox.state",
            conversationId: params.conversationId,
            messageId,
            state: "queued",
            error: null,
          }),
        ],
      },
    }));
    return this.getMessage(params.conversationId, messageId);
  }

  /** Sends an edit, delete, reaction or undo; here it changes what it changes at every receiver. */
  #sendChange(conversationId: string, activity: ApplicationActivity, at: number): Promise<void> {
    const intent = intentOf(activity);
    return this.#sendApplication(conversationId, activity, (info) => {
      const effect = effectOf(this.#ctx, conversationId, info, this.actorId, intent, at);
      const { messages, changes: messageChanges, events } = effect;
      return { info: effect.info, unit: { at, messages, messageChanges, events } };
    });
  }

  #ownMessage(conversationId: string, messageId: string) {
    const message = this.store.message(canonicalApplicationId(messageId));
    if (message === undefined || message.conversation !== conversationId) {
      throw new ApiError("message_not_found", "no such message in this conversation");
    }
    if (message.author !== this.actorId)
      throw new ApiError("not_author", "only the author may change a message");
    if (message.deletedAt !== null) throw new ApiError("message_not_found", "the message was deleted");
    return message;
  }

  /** Replaces the text of one of this account's messages (an Update). */
  async editMessage(params: {
    conversationId: string;
    messageId: string;
    text: string;
    mediaType?: "text/plain" | "text/html";
  }): Promise<Message> {
    const message = this.#ownMessage(params.conversationId, params.messageId);
    const stored = readApplicationData(message.body);
    if (!stored.ok || stored.value.type !== "Create" || stored.value.object?.form !== "embedded") {
      throw new ApiError("message_not_found", "the message has no editable content");
    }
    const at = this.#ctx.now();
    const html = params.mediaType === "text/html" ? sanitizeHtmlField(params.text) : textToHtml(params.text);
    const activity = updateNote(this.actorId, stored.value.object.value, html, new Date(at).toISOString());
    await this.#sendChange(params.conversationId, activity, at);
    return this.getMessage(params.conversationId, message.id);
  }

  /** Deletes one of this account's messages for everyone (a Delete). */
  async deleteMessage(params: { conversationId: string; messageId: string }): Promise<{ ok: true }> {
    const message = this.#ownMessage(params.conversationId, params.messageId);
    const at = this.#ctx.now();
    const activity = deleteNote(this.actorId, wireIdOf(message), new Date(at).toISOString());
    await this.#sendChange(params.conversationId, activity, at);
    return { ok: true };
  }

  #anyMessage(conversationId: string, messageId: string) {
    const message = this.store.message(canonicalApplicationId(messageId));
    if (message === undefined || message.conversation !== conversationId) {
      throw new ApiError("message_not_found", "no such message in this conversation");
    }
    return message;
  }

  /** Reacts with an emoji (a Like). */
  async react(params: { conversationId: string; messageId: string; emoji: string }): Promise<{ ok: true }> {
    const message = this.#anyMessage(params.conversationId, params.messageId);
    const at = this.#ctx.now();
    const activity = like(this.actorId, wireIdOf(message), params.emoji, new Date(at).toISOString());
    await this.#sendChange(params.conversationId, activity, at);
    return { ok: true };
  }

  /** Takes back a reaction (an Undo of the Like). Nothing to take back is not an error. */
  async unreact(params: { conversationId: string; messageId: string; emoji: string }): Promise<{ ok: true }> {
    const message = this.#anyMessage(params.conversationId, params.messageId);
    const { info } = this.#loaded(params.conversationId);
    const likeId = Object.entries(info.likes).find(
      ([, l]) => l.actor === this.actorId && l.messageId === message.id && l.emoji === params.emoji,
    )?.[0];
    if (likeId === undefined) return { ok: true };
    const at = this.#ctx.now();
    const activity = unlike(
      this.actorId,
      { id: likeId, messageId: wireIdOf(message), emoji: params.emoji },
      new Date(at).toISOString(),
    );
    await this.#sendChange(params.conversationId, activity, at);
    return { ok: true };
  }

  /** Moves the read marker (default: the latest message) and sends a read receipt to the group. */
  async markRead(params: { conversationId: string; messageId?: string }): Promise<{ ok: true }> {
    const loaded = this.#loaded(params.conversationId);
    const wanted = params.messageId ?? loaded.info.lastMessageId;
    if (wanted === null) return { ok: true };
    const message = this.#anyMessage(params.conversationId, wanted);
    const messageId = message.id;
    const at = this.#ctx.now();
    const local = (info: ConversationInfo) => ({
      info: { ...info, readMarker: messageId, unread: 0 },
      unit: {
        at,
        events: [
          event({ type: "conversation.updated", conversationId: params.conversationId }),
        ] as EventInput[],
      },
    });
    if (loaded.info.left || !isActive(loaded.conversation)) {
      const effect = local(loaded.info);
      this.#ctx.apply({ ...effect.unit, groups: [groupRecord(loaded.conversation, effect.info)] });
      return { ok: true };
    }
    await this.#sendApplication(
      params.conversationId,
      read(this.actorId, wireIdOf(message), new Date(at).toISOString()),
      local,
    );
    return { ok: true };
  }

  // ---- queries ----------------------------------------------------------------------------------------

  #handles = (actorId: string) => {
    if (actorId === this.actorId)
      return { handle: this.#ctx.settings.handle, displayName: this.#ctx.settings.displayName };
    const contact = this.store.contact(actorId);
    return { handle: this.#handleBook.handle(actorId), displayName: contact?.name ?? null };
  };

  listConversations(params: { includeLeft?: boolean } = {}): { conversations: Conversation[] } {
    const conversations = this.store
      .groups()
      .filter((g) => !isLinkGroup(g.info))
      .map((g) => conversationView(g, this.#handles))
      .filter((c) => params.includeLeft || !c.left)
      .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
    return { conversations };
  }

  getConversation(conversationId: string): Conversation {
    const summary = this.store.groupSummary(conversationId);
    if (summary === undefined || isLinkGroup(summary.info))
      throw new ApiError("conversation_not_found", `no conversation ${conversationId.slice(0, 200)}`);
    return conversationView(summary, this.#handles);
  }

  #readBy(conversationId: string, at: number): string[] {
    const loaded = loadConversation(this.#ctx, conversationId);
    if (loaded === undefined) return [];
    return Object.entries(loaded.info.receipts)
      .filter(([, messageId]) => (this.store.message(messageId)?.at ?? -1) >= at)
      .map(([actor]) => actor);
  }

  getMessage(conversationId: string, messageId: string): Message {
    const message = this.store.message(canonicalApplicationId(messageId));
    if (message === undefined || message.conversation !== conversationId) {
      throw new ApiError("message_not_found", "no such message in this conversation");
    }
    return messageView(
      message,
      this.store.messageHistory(message.id),
      this.#readBy(conversationId, message.at),
    );
  }

  /** A page of messages, oldest first; `before` (from the previous page) reads further back. */
  listMessages(params: { conversationId: string; before?: string; limit?: number }): {
    messages: Message[];
    before: string | null;
  } {
    this.getConversation(params.conversationId);
    const limit = params.limit ?? 50;
    const page = this.store.messages(params.conversationId, { before: readPageCursor(params.before), limit });
    const loaded = loadConversation(this.#ctx, params.conversationId);
    const receipts = Object.entries(loaded?.info.receipts ?? {}).map(([actor, id]) => ({
      actor,
      at: this.store.message(id)?.at ?? -1,
    }));
    return {
      messages: page.map((m) =>
        messageView(
          m,
          this.store.messageHistory(m.id),
          receipts.filter((r) => r.at >= m.at).map((r) => r.actor),
        ),
      ),
      before: page.length === limit && page[0] !== undefined ? `${page[0].at}:${page[0].id}` : null,
    };
  }

  #keyChangedAt(actorId: string): number | null {
    const record = this.store.contact(actorId);
    if (record?.verification !== "changed") return null;
    return Math.max(...record.devices.map((d) => d.firstSeen));
  }

  listContacts(): { contacts: Contact[] } {
    return {
      contacts: this.store
        .contacts()
        .map((c) => contactView(c, this.#keyChangedAt(c.actor), this.#handles(c.actor))),
    };
  }

  async getContact(params: { actor: string }): Promise<Contact> {
    const actorId = await this.#ctx.directory.resolve(params.actor).catch(() => params.actor);
    const record = this.store.contact(actorId);
    if (record === undefined)
      throw new ApiError("contact_not_found", `no contact ${params.actor.slice(0, 200)}`);
    return contactView(record, this.#keyChangedAt(actorId), this.#handles(actorId));
  }

  /** Marks a contact's current devices verified (each given fingerprint must be one of them). */
  async verifyContact(params: { actor: string; fingerprints?: readonly string[] }): Promise<Contact> {
    const contact = await this.getContact(params);
    const record = this.store.contact(contact.actorId);
    if (record === undefined) throw new ApiError("contact_not_found", "no such contact");
    const known = new Set(record.devices.map((d) => normalizeFingerprint(d.fingerprint)));
    if (params.fingerprints?.some((f) => !known.has(normalizeFingerprint(f)))) {
      throw new ApiError("fingerprint_mismatch", "a fingerprint matches none of the contact's devices");
    }
    this.#setVerification(contact.actorId, "verified");
    return this.getContact({ actor: contact.actorId });
  }

  async unverifyContact(params: { actor: string }): Promise<Contact> {
    const contact = await this.getContact(params);
    this.#setVerification(contact.actorId, "unverified");
    return this.getContact({ actor: contact.actorId });
  }

  #setVerification(actorId: string, verification: "verified" | "unverified"): void {
    const record = this.store.contact(actorId);
    if (record === undefined) return;
    // Verifying again clears the mark on the conversations the change showed up in.
    const groups =
      verification === "verified"
        ? this.store
            .groups()
            .filter(
              (g) => g.members.includes(actorId) && (g.info as { keyChanged?: boolean } | null)?.keyChanged,
            )
            .flatMap((g) => {
              const loaded = loadConversation(this.#ctx, g.id);
              return loaded === undefined
                ? []
                : [groupRecord(loaded.conversation, { ...loaded.info, keyChanged: false })];
            })
        : [];
    this.#ctx.apply({
      contacts: [{ ...record, verification }],
      groups,
      events: groups.map((g) => event({ type: "conversation.updated", conversationId: g.id })),
    });
  }

  #ownDevice(): Device {
    const key = this.store.deviceKey(DEVICE_KEY_ID);
    return {
      id: this.#ctx.settings.deviceId,
      name: this.#ctx.settings.deviceName,
      fingerprint: fingerprintText(this.#ctx.device.signaturePublicKey),
      current: true,
      firstSeen: new Date(key?.createdAt ?? 0).toISOString(),
      verified: true,
    };
  }

  listDevices(): { devices: Device[] } {
    const own = this.#ownDevice();
    const linkedHere = this.#linkGroups().find((g) => g.link.role === "new")?.link;
    const others = this.#linkGroups()
      .filter((g) => g.link.role === "existing")
      .flatMap(({ link }) =>
        link.keys.map((key): Device => {
          const bytes = new Uint8Array(Buffer.from(key, "hex"));
          return {
            id: deviceIdOf(bytes),
            name: link.name,
            fingerprint: fingerprintText(bytes),
            current: false,
            firstSeen: new Date(link.since).toISOString(),
            verified: link.state === "linked",
            link: { state: link.state, comparison: link.comparison },
          };
        }),
      );
    const unlinked = this.#unlinkedDevices().map(
      (key): Device => ({
        id: deviceIdOf(key),
        name: null,
        fingerprint: fingerprintText(key),
        current: false,
        firstSeen: new Date(this.store.deviceKey(DEVICE_KEY_ID)?.createdAt ?? 0).toISOString(),
        verified: false,
        link: null,
      }),
    );
    return {
      devices: [
        linkedHere === undefined
          ? own
          : { ...own, link: { state: linkedHere.state, comparison: linkedHere.comparison } },
        ...others,
        ...unlinked,
      ],
    };
  }

  // ---- several devices (deviceLink.ts) -----------------------------------------------------------------

  /** The link groups of this daemon (hidden conversations between two devices of this account). */
  #linkGroups(state?: DeviceLink["state"]): { id: string; link: DeviceLink }[] {
    return this.store.groups().flatMap((g) => {
      const link = (g.info as { link?: DeviceLink } | null)?.link;
      return link !== undefined && (state === undefined || link.state === state) ? [{ id: g.id, link }] : [];
    });
  }

  /** A one-time code for linking a new device (`sottod init --link CODE` there). */
  linkDevice(): { code: string; expiresAt: string; fingerprint: string } {
    const now = this.#ctx.now();
    const code = newLinkCode();
    const expiresAt = now + (this.#options.linkCodeTtlMs ?? LINK_CODE_TTL_MS);
    const codes = [...readLinkCodes(this.store.setting(SETTINGS_LINK_CODES), now), { code, expiresAt }];
    this.#ctx.apply({ settings: { [SETTINGS_LINK_CODES]: codes as never } });
    this.log.info("link_code_made", {});
    return {
      code,
      expiresAt: new Date(expiresAt).toISOString(),
      fingerprint: fingerprintText(this.#ctx.device.signaturePublicKey),
    };
  }

  /**
   * On a new device: asks the account's devices to link this one, with the code one of them made. Opens the
   * link group with them (its id proves the code), then sends this device's KeyPackages in it; they are not
   * published here: the existing device publishes them endorsed when it approves.
   */
  async joinDevice(params: { code: string }): Promise<{ comparison: string; fingerprint: string }> {
    return this.#ctx.serial.run(async () => {
      if (this.#linkGroups().length > 0 || this.store.groups().length > 0)
        throw new ApiError(
          "link_refused",
          "this daemon is in conversations already: link a new daemon instead",
        );
      const ctx = this.#ctx;
      const now = ctx.now();
      const fresh = await generateKeyPackages(ctx.device, {
        count: this.#options.keyPackages?.size ?? 5,
        lastResort: true,
        time: new Date(now),
      });
      let created: Awaited<ReturnType<typeof createConversation>>;
      try {
        created = await createConversation(this.#engine(), {
          members: [this.actorId],
          groupId: linkGroupId(params.code, ctx.device.signaturePublicKey),
        });
      } catch (error) {
        throw mlsToApi(error);
      }
      const { conversation } = created;
      const others = created.added.map((m) => m.signaturePublicKey);
      if (others.length === 0 || created.welcome === undefined)
        throw new ApiError(
          "link_refused",
          "no device of this account publishes KeyPackages yet: run sottod on the existing device first",
        );
      const comparison = comparisonString(params.code, [ctx.device.signaturePublicKey, ...others]);
      const info: ConversationInfo = {
        ...newConversationInfo(now),
        link: {
          role: "new",
          keys: others.map((k) => Buffer.from(k).toString("hex")),
          state: "requested",
          comparison,
          name: null,
          since: now,
        },
      };
      const request: DeviceSync = {
        type: "LinkRequest",
        name: ctx.settings.deviceName,
        generator: ctx.generator.id,
        keyPackages: fresh.map((kp) => Buffer.from(kp.keyPackage).toString("base64")),
      };
      const sent = await encryptMessage(conversation, writeDeviceSync(request));
      ctx.apply({
        at: now,
        // Kept unpublished ("linking:") until the existing device publishes them endorsed.
        keyPackages: keyPackageSecrets(fresh, now, (ref) => `linking:${ref}`),
        groups: [groupRecord(sent.conversation, info)],
        outbox: [
          ...queueMls(ctx, conversation.groupId, created.welcome, [this.actorId], "welcome", {
            published: created.published.toISOString(),
          }),
          ...queueMls(ctx, conversation.groupId, sent.message, [this.actorId], "message"),
        ],
        events: [event({ type: "devices.changed", deviceId: deviceIdOf(ctx.device.signaturePublicKey) })],
      });
      ctx.wakeOutbox();
      this.log.info("link_asked", {});
      return { comparison, fingerprint: fingerprintText(ctx.device.signaturePublicKey) };
    });
  }

  #tryLinkOf(id: string): { id: string; link: DeviceLink; key: Uint8Array } | undefined {
    try {
      return this.#linkOf(id);
    } catch {
      return undefined;
    }
  }

  /**
   * Leaves of this account in its conversations that are neither this device nor one linked here: a device
   * linked by another device, an older one, or one that someone (the account's server) put there.
   */
  #unlinkedDevices(): Uint8Array[] {
    const known = new Set([
      Buffer.from(this.#ctx.device.signaturePublicKey).toString("hex"),
      ...this.#linkGroups().flatMap((g) => g.link.keys),
    ]);
    const found = new Map<string, Uint8Array>();
    for (const g of this.store.groups()) {
      if (isLinkGroup(g.info) || !g.members.includes(this.actorId)) continue;
      const loaded = loadConversation(this.#ctx, g.id);
      if (loaded === undefined || !isActive(loaded.conversation)) continue;
      for (const m of members(loaded.conversation)) {
        const hex = Buffer.from(m.signaturePublicKey).toString("hex");
        if (m.actorId === this.actorId && !known.has(hex)) found.set(hex, m.signaturePublicKey);
      }
    }
    return [...found.values()];
  }

  #linkOf(id: string): { id: string; link: DeviceLink; key: Uint8Array } {
    for (const group of this.#linkGroups()) {
      if (group.link.role !== "existing") continue;
      for (const key of group.link.keys) {
        const bytes = new Uint8Array(Buffer.from(key, "hex"));
        if (deviceIdOf(bytes) === id.toLowerCase() || fingerprintText(bytes).replaceAll(" ", "") === id)
          return { ...group, key: bytes };
      }
    }
    throw new ApiError(
      "device_not_found",
      `no device ${id.slice(0, 80)} of this account (see sotto devices)`,
    );
  }

  /** Encrypts a device-sync payload in a link group and queues it for this account's other devices. */
  async #sendDeviceSync(groupId: string, sync: DeviceSync): Promise<void> {
    const loaded = this.#loaded(groupId);
    const { conversation, message } = await encryptMessage(loaded.conversation, writeDeviceSync(sync));
    this.#ctx.apply({ outbox: queueMls(this.#ctx, groupId, message, [this.actorId], "message") }, [
      { conversation, info: loaded.info, members: loaded.members },
    ]);
  }

  /**
   * Approves a device that asked to be linked: publishes its KeyPackages endorsed by this device, adds it to
   * every active conversation (one commit each, as any add), and sends it their recent history inside the link
   * group (end to end encrypted; the server sees only ciphertext).
   */
  async approveDevice(params: { id: string }): Promise<{ device: Device; conversations: number }> {
    const ctx = this.#ctx;
    const { id: groupId, link, key } = this.#linkOf(params.id);
    if (link.state !== "requested" || link.keyPackages === undefined || link.keyPackages.length === 0)
      throw new ApiError(
        "device_not_found",
        link.state === "requested"
          ? "that device has not sent its KeyPackages yet: sync and try again"
          : `that device is ${link.state} already`,
      );
    // 1. Its KeyPackages, endorsed by this (already trusted) device, into the account's collection.
    const published: Record<string, string> = {};
    const generator = { id: `urn:uuid:${crypto.randomUUID()}`, name: link.name ?? "linked device" };
    let lastResort: Uint8Array | undefined;
    for (const content of link.keyPackages) {
      const bytes = new Uint8Array(Buffer.from(content, "base64"));
      const decoded = readKeyPackage(bytes);
      if (!decoded.ok || Buffer.compare(decoded.value.leafNode.signaturePublicKey, key) !== 0) continue;
      if (isLastResort(decoded.value)) lastResort = bytes;
      const endorsement = await endorseKeyPackage(ctx.device, bytes);
      const object = writeKeyPackageObject({
        actor: this.actorId,
        keyPackage: bytes,
        generator,
        endorsement,
      });
      const created = await ctx.account
        .post({ "@context": object["@context"], type: "Create", actor: this.actorId, to: object.to, object })
        .catch((error: unknown) => {
          throw actorError(error, this.actorId);
        });
      const objectId = (created.body as { object?: { id?: unknown } } | null)?.object?.id;
      if (typeof objectId !== "string") continue;
      published[content] = objectId;
      await ctx.account
        .post({
          "@context": object["@context"],
          type: "Add",
          actor: this.actorId,
          to: object.to,
          object: objectId,
          target: ctx.settings.keyPackagesUrl,
          ...endorsement,
        })
        .catch((error: unknown) => this.log.warn("key_package_add_failed", errorFields(error)));
    }
    const invite = lastResort ?? new Uint8Array(Buffer.from(link.keyPackages[0] as string, "base64"));
    // This account's listing, read once (it now holds the new device's packages) for every add below.
    const listing = await ctx.directory.keyPackagesOf(this.actorId).catch((error: unknown) => {
      throw actorError(error, this.actorId);
    });
    const engine = (): EngineContext => ({
      ...this.#engine(),
      fetcher: {
        keyPackagesOf: (actorId) =>
          actorId === this.actorId ? Promise.resolve(listing) : ctx.directory.keyPackagesOf(actorId),
      },
    });
    // 2. Into every active conversation: one commit each, through the normal path.
    let conversations = 0;
    const history: DeviceSync[] = [];
    for (const g of this.store.groups()) {
      if (isLinkGroup(g.info)) continue;
      const added = await ctx.serial.run(async () => {
        const loaded = loadConversation(ctx, g.id);
        if (loaded === undefined || loaded.info.left || !isActive(loaded.conversation)) return false;
        const outcome = await addMembers(engine(), loaded.conversation, [
          { actorId: this.actorId, keyPackages: [invite] },
        ]).catch((error: unknown) => {
          this.log.warn("link_add_failed", { conversation: g.id, ...errorFields(error) });
          return undefined;
        });
        if (outcome === undefined) return false;
        const published = outcome.published.toISOString();
        this.#commitLocally(loaded, outcome.conversation, new Map(), [
          ...queueMls(ctx, g.id, outcome.commit, outcome.commitRecipients, "handshake", { published }),
          ...(outcome.welcome === undefined
            ? []
            : queueMls(ctx, g.id, outcome.welcome, outcome.welcomeRecipients, "welcome", { published })),
        ]);
        return true;
      });
      if (!added) continue;
      conversations++;
      history.push(...historyChunks(g.id, this.#recentHistory(g.id)));
    }
    // 3. The history, then the approval (the new device learns its KeyPackages' ids from it).
    await ctx.serial.run(async () => {
      for (const sync of history) await this.#sendDeviceSync(groupId, sync);
      await this.#sendDeviceSync(groupId, { type: "Approved", published });
      const loaded = this.#loaded(groupId);
      ctx.apply({
        groups: [groupRecord(loaded.conversation, { ...loaded.info, link: { ...link, state: "linked" } })],
        events: [event({ type: "devices.changed", deviceId: deviceIdOf(key) })],
      });
    });
    ctx.wakeOutbox();
    this.counters.add("link.approved");
    this.log.info("link_approved", { conversations });
    const device = this.listDevices().devices.find((d) => d.id === deviceIdOf(key)) as Device;
    return { device, conversations };
  }

  /** The last `maxMessages` messages of the last `maxAgeMs` of a conversation, oldest first. */
  #recentHistory(conversationId: string): HistoryMessage[] {
    const maxAgeMs = this.#options.history?.maxAgeMs ?? 30 * 24 * 3600_000;
    const maxMessages = this.#options.history?.maxMessages ?? 1000;
    const since = this.#ctx.now() - maxAgeMs;
    return this.store
      .messages(conversationId, { limit: maxMessages })
      .filter((m) => m.at >= since && m.deletedAt === null)
      .map((m) => ({ id: m.id, author: m.author, at: m.at, body: m.body }));
  }

  /**
   * Removes another device of this account from every conversation (and its link group), and deletes its
   * KeyPackages from the account's collection. It can read nothing sent afterwards.
   */
  async removeDevice(params: { id: string }): Promise<{ conversations: number }> {
    const ctx = this.#ctx;
    const linked = this.#linkGroups().some((g) => g.link.role === "existing")
      ? this.#tryLinkOf(params.id)
      : undefined;
    const key = linked?.key ?? this.#unlinkedDevices().find((d) => deviceIdOf(d) === params.id.toLowerCase());
    if (key === undefined)
      throw new ApiError(
        "device_not_found",
        `no device ${params.id.slice(0, 80)} of this account (see sotto devices)`,
      );
    let conversations = 0;
    for (const g of this.store.groups()) {
      const removed = await ctx.serial.run(async () => {
        const loaded = loadConversation(ctx, g.id);
        if (loaded === undefined || loaded.info.left || !isActive(loaded.conversation)) return false;
        if (!members(loaded.conversation).some((m) => Buffer.compare(m.signaturePublicKey, key) === 0))
          return false;
        const outcome = await removeDevices(this.#engine(), loaded.conversation, [key]);
        this.#commitLocally(
          loaded,
          outcome.conversation,
          new Map(),
          queueMls(ctx, g.id, outcome.commit, outcome.commitRecipients, "handshake", {
            published: outcome.published.toISOString(),
          }),
        );
        return !isLinkGroup(g.info);
      });
      if (removed) conversations++;
    }
    const listed = await ctx.directory.listKeyPackages(this.actorId).catch((error: unknown) => {
      throw actorError(error, this.actorId);
    });
    await ctx.serial.run(async () => {
      const loaded = linked === undefined ? undefined : this.#loaded(linked.id);
      ctx.apply({
        groups:
          loaded === undefined || linked === undefined
            ? []
            : [
                groupRecord(loaded.conversation, {
                  ...loaded.info,
                  link: { ...linked.link, state: "removed" },
                }),
              ],
        outbox: listed
          .filter((kp) => Buffer.compare(kp.signaturePublicKey, key) === 0 && kp.objectId !== undefined)
          .flatMap((kp) => retireKeyPackage(ctx, kp.objectId as string)),
        events: [event({ type: "devices.changed", deviceId: deviceIdOf(key) })],
      });
    });
    ctx.wakeOutbox();
    this.counters.add("link.removed");
    this.log.info("device_removed", { conversations });
    return { conversations };
  }

  getAccount(): Account {
    const { settings } = this.#ctx;
    return {
      actorId: settings.actorId,
      handle: settings.handle,
      displayName: settings.displayName,
      server: new URL(settings.actorId).origin,
      device: this.#ownDevice(),
    };
  }

  status(): Status {
    const page = this.store.since(0, 1);
    return {
      version: VERSION,
      ready: this.running,
      account: { actorId: this.actorId, handle: this.#ctx.settings.handle },
      sync: this.#sync,
      outbox: { queued: this.store.outboxCount("queued"), failed: this.store.outboxCount("failed") },
      events: { head: page.last, oldest: Math.max(0, (page.events[0]?.seq ?? page.last + 1) - 1) },
    };
  }
}

/** Whether a group record's info is a device link group's (not a conversation the user sees). */
function isLinkGroup(info: unknown): boolean {
  return typeof info === "object" && info !== null && (info as { link?: unknown }).link !== undefined;
}

function normalizeFingerprint(text: string): string {
  return text.replace(/[\s:]/g, "").toLowerCase();
}

/**
 * The `before` cursor of `messages.list` is `<at>:<message id>` (opaque to clients), so messages that share a
 * millisecond are never skipped at a page boundary; a bare `<at>` from older clients still works.
 */
function readPageCursor(before: string | undefined): MessageCursor | number | undefined {
  if (before === undefined) return undefined;
  const colon = before.indexOf(":");
  const at = Number(colon < 0 ? before : before.slice(0, colon));
  if (!Number.isFinite(at)) return undefined;
  return colon < 0 ? at : { at, id: before.slice(colon + 1) };
}

/** A title as stored and sent: plain text, trimmed; empty is none. */
function titleOf(title: string | undefined): string | null {
  const text = title === undefined ? "" : sanitizeTextField(title).trim();
  return text === "" ? null : text;
}
