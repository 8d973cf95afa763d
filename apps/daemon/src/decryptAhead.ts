import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { ReceivedItem } from "@sotto/activitypub";
import {
  type Conversation,
  decodeConversation,
  type Envelope,
  encodeConversation,
  type Member,
  processMessage,
  readEnvelope,
  verifyDeferredSignature,
} from "@sotto/core";
import type { Counters } from "./counters.js";
import type { AheadReply, AheadRequest, AheadWorkerData } from "./decryptAheadProtocol.js";
import { groupIdOf } from "./groups.js";
import { errorFields, type Logger } from "./log.js";

/** A chain starts only for a group with at least this many application messages read and not yet applied. */
const MIN_CHAIN = 8;

/** The worker ends after this long without a message fed or taken (it costs memory while it lives). */
const IDLE_MS = 3_000;

/** A worker told to end (idle) that has not exited after this long is terminated. */
const END_MS = 5_000;

/** After this many worker failures the daemon goes on without it (each costs a restart and a replay). */
const MAX_FAILURES = 3;

/** What the worker computed for an application message: what `processMessage` gives, but the new state. */
export interface EarlyApplication {
  readonly sender: Member;
  readonly data: Uint8Array;
  readonly epoch: bigint;
}

/** The main thread's side of the conversations cache (see `Applier`). */
export interface AheadHost {
  /** The decoded conversation the cache holds for a group, if any. */
  cached(groupId: string): Conversation | undefined;
  /** Puts the state reclaimed from the worker in place of the cached one (and of the batch's deferred one). */
  replace(groupId: string, conversation: Conversation): void;
  readonly counters: Counters;
  readonly log: Logger;
  /**
   * A chain starts at once and waits for a worker still loading, instead of the main thread doing the
   * messages itself until it is loaded: for tests that need the worker to take a known share of a small backlog.
   */
  readonly waitForWorker?: boolean;
}

type Outcome = Extract<AheadReply, { op: "result" }> | "lost";

interface Chain {
  readonly token: number;
  readonly groupId: string;
  /** The main thread's state the worker's results follow from: the cached object, compared by identity. */
  base: Conversation;
  /** The seq of each envelope sent to the worker and not taken yet. */
  readonly seqs: Map<Envelope, number>;
  next: number;
  /** The last seq the main thread accounted for (-1: none). */
  at: number;
  /** The messages taken and applied since `base`: the state after them lives in the worker only. */
  consumed: Envelope[];
  /** The message last taken, until the main thread says it applied it (`applied`). */
  taken?: { readonly envelope: Envelope; readonly seq: number };
  /** Takes further messages (until one that is not application data: only the main thread handles those). */
  open: boolean;
  readonly outcomes: Map<number, Outcome>;
  waiting?: { readonly seq: number; readonly resolve: (outcome: Outcome) => void };
  reclaiming?: (state: Uint8Array | undefined) => void;
}

interface Group {
  /** Private messages of the group fed and not reached yet by the main thread, in order. */
  readonly queue: Envelope[];
  chain?: Chain;
}

/**
 * Decrypt ahead (issue 20): while a receive batch runs on the main thread, a worker thread runs
 * `processMessage` for the application messages already read, per group from the main thread's state, so that
 * MLS (most of a catch-up's CPU) runs on the second core. It is speculative: the main path stays as it was,
 * and takes the worker's result for a message only when it is provably what it would have computed itself:
 * the chain started from the state the cache still holds (the same object), the result is for this very
 * envelope, and every message of the chain before it was either taken in order or left the state as it was.
 * Anything else ends the chain and the main thread does the message itself.
 *
 * While results are taken, the cached state is stale (the new one is in the worker): `settle` reclaims it
 * before anything else reads that group's state, and `settleAll` at the end of each batch, before the Applier
 * writes the batch's states; outside a receive batch no state lives only in the worker. If the worker is lost,
 * the main thread replays the messages taken since the last reclaim on the state it had: nothing is lost.
 */
export class DecryptAhead {
  readonly #host: AheadHost;
  readonly #envelopes = new WeakMap<ReceivedItem, ReturnType<typeof readEnvelope>>();
  readonly #groups = new Map<string, Group>();
  readonly #chains = new Map<number, Chain>();
  #worker: Worker | undefined;
  /** The worker said it is loaded; until then the main thread does every message itself. */
  #workerReady = false;
  /** Told when the worker is loaded (or lost before). */
  #onReady: ((ready: boolean) => void)[] = [];
  #outgoing: AheadRequest[] = [];
  #flushing = false;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #tokens = 0;
  /** Worker exits this daemon did not ask for. */
  #failures = 0;
  /** [token, seq] of the message the main thread takes now, shared with the worker (AheadWorkerData). */
  readonly #reached = new Int32Array(new SharedArrayBuffer(8));

  constructor(host: AheadHost) {
    this.#host = host;
  }

  /** An item was read: its envelope is read now (once: `reach` gives it back) and sent ahead if it can be. */
  feed(item: ReceivedItem): void {
    const read = readEnvelope(item.activity);
    this.#envelopes.set(item, read);
    if (!read.ok || read.value.kind !== "private_message") return;
    const envelope = read.value;
    const groupId = groupIdOf(envelope);
    if (groupId === undefined) return;
    let group = this.#groups.get(groupId);
    if (group === undefined) {
      group = { queue: [] };
      this.#groups.set(groupId, group);
    }
    group.queue.push(envelope);
    if (group.chain?.open) this.#send(group.chain, envelope);
    // A backlog worth a chain is coming: the worker loads (~100-200 ms) while the main thread does the first
    // messages itself, rather than waiting for its first result.
    else if (group.queue.length >= MIN_CHAIN && this.#failures < MAX_FAILURES) this.#ensureWorker();
    this.#touch();
  }

  /** The main thread reached this item: the envelope `feed` read for it, if it was fed. */
  reach(item: ReceivedItem): ReturnType<typeof readEnvelope> | undefined {
    const read = this.#envelopes.get(item);
    if (read === undefined) return undefined;
    this.#envelopes.delete(item);
    const groupId = read.ok ? groupIdOf(read.value) : undefined;
    const group = groupId === undefined ? undefined : this.#groups.get(groupId);
    if (read.ok && group !== undefined) {
      const at = group.queue.indexOf(read.value);
      if (at >= 0) group.queue.splice(0, at + 1);
      // A group with nothing read ahead and no chain is forgotten (the map lives as long as the daemon).
      if (group.queue.length === 0 && group.chain === undefined) this.#groups.delete(groupId as string);
    }
    return read;
  }

  /**
   * The worker's result for `envelope`, reached by the main thread with `current` (the group's state as the
   * cache holds it), or undefined: then the group is settled and the main thread processes the message.
   * `usable` false (a held message, a device-link group) only settles.
   */
  async take(
    groupId: string,
    envelope: Envelope,
    current: Conversation,
    usable: boolean,
  ): Promise<EarlyApplication | undefined> {
    const group = this.#groups.get(groupId);
    if (group === undefined) return undefined;
    this.#touch();
    if (!usable || envelope.kind !== "private_message") {
      await this.#end(group);
      return undefined;
    }
    if (group.chain?.taken !== undefined) {
      await this.#end(group);
      return undefined;
    }
    let chain = group.chain;
    if (chain === undefined) {
      if (group.queue.length + 1 < MIN_CHAIN || this.#failures >= MAX_FAILURES) return undefined;
      if (!this.#workerReady && this.#host.waitForWorker !== true) {
        this.#ensureWorker();
        return undefined;
      }
      chain = this.#start(group, current, [envelope, ...group.queue]);
    }
    const seq = chain.seqs.get(envelope);
    if (seq === undefined || chain.base !== current) {
      await this.#end(group);
      return undefined;
    }
    Atomics.store(this.#reached, 0, chain.token);
    Atomics.store(this.#reached, 1, seq);
    // Messages of the chain the main thread passed over (e.g. duplicates) must have left the state as it was.
    for (let skipped = chain.at + 1; skipped < seq; skipped++) {
      const outcome = await this.#outcome(chain, skipped);
      if (outcome === "lost" || outcome.ok) {
        await this.#end(group);
        return undefined;
      }
      chain.at = skipped;
    }
    const outcome = await this.#outcome(chain, seq);
    chain.seqs.delete(envelope);
    if (outcome === "lost") {
      await this.#end(group);
      return undefined;
    }
    chain.at = seq;
    if (!outcome.ok) {
      // The state did not move: the main thread does this one itself (and finds the same error) from the
      // reclaimed state, and the chain goes on.
      await this.#settle(group);
      return undefined;
    }
    chain.taken = { envelope, seq };
    if (outcome.unverified !== undefined) {
      this.#host.counters.add("decrypt_ahead.verified_here");
      if (!(await verifyDeferredSignature(current, outcome.unverified))) {
        this.#host.counters.add("decrypt_ahead.signature_refused");
        // The worker's states from here on count a message processMessage refuses: the chain is reclaimed
        // from the state before it and ends, as for a message not applied; the main thread meets the refusal.
        await this.#settle(group);
        return undefined;
      }
    }
    this.#host.counters.add("decrypt_ahead.taken");
    return { sender: outcome.sender, data: outcome.data, epoch: outcome.epoch };
  }

  /**
   * The main thread applied the message `take` gave last for this group. One it did not apply (its unit failed
   * or threw) is not part of the group's state: the chain is reclaimed from the state before it, and ends.
   */
  applied(groupId: string): void {
    const chain = this.#groups.get(groupId)?.chain;
    if (chain?.taken === undefined) return;
    chain.consumed.push(chain.taken.envelope);
    chain.taken = undefined;
  }

  /** Reclaims the group's state from the worker (see `take`) and ends its chain. */
  async settle(groupId: string): Promise<void> {
    const group = this.#groups.get(groupId);
    if (group !== undefined) await this.#end(group);
  }

  /** At the end of a receive batch: every group's state is reclaimed; the chains go on. */
  async settleAll(): Promise<void> {
    for (const group of this.#groups.values()) await this.#settle(group);
  }

  /** Drops every chain without reclaiming (a failed batch: the cache was cleared, the store rolled back). */
  reset(): void {
    for (const group of this.#groups.values()) this.#drop(group);
    this.#groups.clear();
  }

  /** Ends the worker (the daemon stops). Call with no batch running. */
  close(): void {
    this.reset();
    clearTimeout(this.#idle);
    this.#idle = undefined;
    void this.#worker?.terminate();
    this.#worker = undefined;
    this.#setReady(false);
  }

  /**
   * Starts the worker if it is not running and resolves once it is loaded (true) or lost (false). The daemon
   * does not wait for it (see `feed`); a test does, to know which messages the worker will take.
   */
  ready(): Promise<boolean> {
    if (this.#workerReady) return Promise.resolve(true);
    this.#ensureWorker();
    return new Promise((resolve) => this.#onReady.push(resolve));
  }

  /** Test hook: ends the worker as a crash would; whatever it held is replayed on the main thread. */
  terminateWorker(): boolean {
    const worker = this.#worker;
    if (worker === undefined) return false;
    void worker.terminate();
    return true;
  }

  #start(group: Group, base: Conversation, envelopes: readonly Envelope[]): Chain {
    this.#ensureWorker();
    const token = ++this.#tokens;
    const groupId = base.groupId;
    const chain: Chain = {
      token,
      groupId,
      base,
      seqs: new Map(),
      next: 0,
      at: -1,
      consumed: [],
      open: true,
      outcomes: new Map(),
    };
    group.chain = chain;
    this.#chains.set(token, chain);
    this.#host.counters.add("decrypt_ahead.chains");
    this.#request({ op: "start", token, state: encodeConversation(base) });
    for (const envelope of envelopes) this.#send(chain, envelope);
    return chain;
  }

  /** Sends a message of the group to its chain; a handshake message closes it (the main thread does those). */
  #send(chain: Chain, envelope: Envelope): void {
    const message = envelope.message;
    if (
      this.#worker === undefined ||
      message.wireformat !== "mls_private_message" ||
      message.privateMessage.contentType !== "application"
    ) {
      chain.open = false;
      return;
    }
    const seq = chain.next++;
    chain.seqs.set(envelope, seq);
    this.#request({
      op: "message",
      token: chain.token,
      seq,
      bytes: envelope.bytes,
      published: envelope.published,
    });
  }

  #outcome(chain: Chain, seq: number): Promise<Outcome> {
    const ready = chain.outcomes.get(seq);
    if (ready !== undefined) {
      chain.outcomes.delete(seq);
      return Promise.resolve(ready);
    }
    if (this.#worker === undefined || !this.#chains.has(chain.token)) return Promise.resolve("lost");
    return new Promise((resolve) => {
      chain.waiting = { seq, resolve };
    });
  }

  /** Brings the cache up to the state after the messages taken from the chain; the chain goes on. */
  async #settle(group: Group): Promise<void> {
    const chain = group.chain;
    if (chain === undefined) return;
    const unapplied = chain.taken;
    if (unapplied !== undefined) {
      // The worker's states from this message on include it: only the one before it is still good.
      chain.taken = undefined;
      chain.at = unapplied.seq - 1;
      this.#host.counters.add("decrypt_ahead.unapplied");
    }
    await this.#reclaimTaken(chain);
    if (unapplied !== undefined) this.#drop(group);
  }

  async #reclaimTaken(chain: Chain): Promise<void> {
    if (chain.consumed.length === 0) return;
    const conversation = (await this.#reclaim(chain)) ?? (await this.#replay(chain));
    // After a failed batch the cache no longer holds the chain's base: it is not to be brought forward.
    if (this.#host.cached(chain.groupId) === chain.base) this.#host.replace(chain.groupId, conversation);
    chain.base = conversation;
    chain.consumed = [];
  }

  async #end(group: Group): Promise<void> {
    await this.#settle(group);
    this.#drop(group);
  }

  #drop(group: Group): void {
    const chain = group.chain;
    if (chain === undefined) return;
    group.chain = undefined;
    this.#chains.delete(chain.token);
    chain.waiting?.resolve("lost");
    chain.reclaiming?.(undefined);
    if (this.#worker !== undefined) this.#request({ op: "stop", token: chain.token });
  }

  async #reclaim(chain: Chain): Promise<Conversation | undefined> {
    if (this.#worker === undefined || !this.#chains.has(chain.token)) return undefined;
    const state = await new Promise<Uint8Array | undefined>((resolve) => {
      chain.reclaiming = resolve;
      this.#request({ op: "state", token: chain.token, seq: chain.at });
    });
    chain.reclaiming = undefined;
    if (state === undefined) return undefined;
    const decoded = decodeConversation(state);
    return decoded.ok ? decoded.value : undefined;
  }

  /** The worker is gone: the main thread computes the state after the messages taken, as it would have. */
  async #replay(chain: Chain): Promise<Conversation> {
    this.#host.counters.add("decrypt_ahead.replayed", chain.consumed.length);
    let conversation = chain.base;
    for (const envelope of chain.consumed) {
      const result = await processMessage(conversation, {
        bytes: envelope.bytes,
        message: envelope.message,
        published: envelope.published,
      });
      // The worker ran the same function on the same state: anything else is a bug, and fails the batch.
      if (!result.ok || result.value.kind !== "application")
        throw new Error("decrypt ahead: a replayed message gave another result");
      conversation = result.value.conversation;
    }
    return conversation;
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(workerFile(), {
      workerData: { reached: this.#reached } satisfies AheadWorkerData,
    });
    worker.unref();
    worker.on("message", (replies: AheadReply[]) => {
      for (const reply of replies) {
        if (reply.op === "ready") {
          if (this.#worker === worker) this.#setReady(true);
        } else this.#receive(reply);
      }
    });
    worker.on("error", (error) => this.#host.log.warn("decrypt_ahead_failed", errorFields(error)));
    worker.on("exit", (code) => {
      if (this.#worker !== worker) {
        if (code === 0) this.#host.counters.add("decrypt_ahead.ended");
        return;
      }
      this.#worker = undefined;
      this.#outgoing = [];
      this.#failures++;
      this.#setReady(false);
      this.#host.counters.add("decrypt_ahead.worker_lost");
      // Whatever it held is replayed (see `take`); the chains are gone.
      for (const chain of this.#chains.values()) {
        chain.open = false;
        chain.waiting?.resolve("lost");
        chain.reclaiming?.(undefined);
      }
      this.#chains.clear();
    });
    this.#worker = worker;
    this.#host.counters.add("decrypt_ahead.workers");
    return worker;
  }

  #setReady(ready: boolean): void {
    this.#workerReady = ready;
    const waiting = this.#onReady;
    this.#onReady = [];
    for (const resolve of waiting) resolve(ready);
  }

  #receive(reply: Exclude<AheadReply, { op: "ready" }>): void {
    const chain = this.#chains.get(reply.token);
    if (chain === undefined) return;
    if (reply.op === "state") {
      chain.reclaiming?.(reply.state);
      return;
    }
    if (chain.waiting?.seq === reply.seq) {
      const { resolve } = chain.waiting;
      chain.waiting = undefined;
      resolve(reply);
    } else {
      chain.outcomes.set(reply.seq, reply);
    }
  }

  /** Requests go out in one message per turn of the event loop. */
  #request(request: AheadRequest): void {
    this.#outgoing.push(request);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      const requests = this.#outgoing;
      this.#outgoing = [];
      // A worker that ended meanwhile took its requests with it (its replacement knows none of its chains).
      if (requests.length > 0) this.#worker?.postMessage(requests);
    });
  }

  /** (Re)arms the idle end of the worker. */
  #touch(): void {
    if (this.#worker === undefined) return;
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#idleEnd(), IDLE_MS);
    this.#idle.unref();
  }

  #idleEnd(): void {
    this.#idle = undefined;
    // A state still only in the worker waits for the batch's end; the worker waits with it.
    if ([...this.#chains.values()].some((c) => c.consumed.length > 0)) {
      this.#touch();
      return;
    }
    for (const group of this.#groups.values()) this.#drop(group);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#setReady(false);
    if (worker === undefined) return;
    // It exits on its own once it gave its heap back; one that does not is ended.
    worker.postMessage([{ op: "end" } satisfies AheadRequest]);
    setTimeout(() => void worker.terminate(), END_MS).unref();
  }
}

/**
 * The worker's file: the bundled one wherever it is built (beside sottod's bundle, or in `bin/` below tsc's
 * output, which a library user of `Daemon` runs: one file loads in about 180 ms where tsc's ~100 modules took
 * 410, and the first result of a catch-up waits for it), else tsc's beside this one, `.ts` under Vitest.
 */
function workerFile(): URL {
  for (const file of ["./bin/decryptAhead.worker.js", "./decryptAhead.worker.js"]) {
    const url = new URL(file, import.meta.url);
    if (existsSync(url)) return url;
  }
  return new URL("./decryptAhead.worker.ts", import.meta.url);
}
