// The decrypt-ahead worker thread (see decryptAhead.ts): runs `processMessage` for the application messages of
// a receive batch ahead of the daemon's main thread, per chain of one group, and keeps the state after each
// message until the main thread asks for it. It imports @sotto/core only: no store, no network, no clock.
import { parentPort, workerData } from "node:worker_threads";
import { type Conversation, decodeConversation, encodeConversation, processMessage } from "@sotto/core/mls";
import type { AheadReply, AheadRequest, AheadWorkerData } from "./decryptAheadProtocol.js";

interface Chain {
  /** The state after each message processed and not yet reclaimed, by its seq (-1: the start). */
  readonly states: Map<number, Conversation>;
  last: Conversation;
}

if (parentPort === null) throw new Error("decryptAhead.worker runs as a worker thread");
const port = parentPort;
const { reached } = workerData as AheadWorkerData;

/**
 * A message this close ahead of the one the main thread takes has its signature (about half of a message's
 * cost) left to the main thread, which would otherwise soon wait for it; further ahead the worker verifies it.
 * The two threads settle at about the same pace, each with a core (apps/daemon README).
 */
const LEAD = 48;

const chains = new Map<number, Chain>();
/** Starts and messages, in order; state requests and stops do not wait behind them. */
const queue: AheadRequest[] = [];
/** State requests for messages not processed yet. */
let waitingStates: Extract<AheadRequest, { op: "state" }>[] = [];
let results: AheadReply[] = [];
let running = false;

const flush = () => {
  if (results.length === 0) return;
  port.postMessage(results);
  results = [];
};

/** Answers a state request now if the chain got that far (or is gone); false: later. */
function answer(request: Extract<AheadRequest, { op: "state" }>): boolean {
  const chain = chains.get(request.token);
  const state = chain?.states.get(request.seq);
  if (chain !== undefined && state === undefined) return false;
  if (chain !== undefined)
    for (const seq of chain.states.keys()) if (seq < request.seq) chain.states.delete(seq);
  // Results before it first: the main thread reads them in order.
  flush();
  port.postMessage([
    {
      op: "state",
      token: request.token,
      seq: request.seq,
      state: state === undefined ? undefined : encodeConversation(state),
    } satisfies AheadReply,
  ]);
  return true;
}

/**
 * The bytes in a buffer of their own: posting a view copies its whole buffer, and the sender's key is a view
 * into the decoded state (1.2 KB at 2 members, tens of KB in a large group), copied again for every message.
 */
const own = (bytes: Uint8Array): Uint8Array =>
  bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();

async function handle(request: AheadRequest): Promise<void> {
  if (request.op === "start") {
    const decoded = decodeConversation(request.state);
    // Undecodable: every message of the chain comes back as an error and the main thread does it itself.
    if (decoded.ok)
      chains.set(request.token, { states: new Map([[-1, decoded.value]]), last: decoded.value });
    return;
  }
  if (request.op !== "message") return;
  const chain = chains.get(request.token);
  if (chain === undefined) return; // Stopped: nobody waits for it.
  const deferSignature =
    Atomics.load(reached, 0) === request.token && request.seq - Atomics.load(reached, 1) < LEAD;
  const result = await processMessage(
    chain.last,
    {
      bytes: request.bytes,
      ...(request.published === undefined ? {} : { published: request.published }),
    },
    { deferSignature },
  ).catch(() => undefined);
  if (result?.ok && result.value.kind === "application") {
    const { conversation, sender, data, epoch, unverified } = result.value;
    chain.last = conversation;
    results.push({
      op: "result",
      token: request.token,
      seq: request.seq,
      ok: true,
      sender: { ...sender, signaturePublicKey: own(sender.signaturePublicKey) },
      data: own(data),
      epoch,
      ...(unverified === undefined
        ? {}
        : {
            unverified: {
              publicKey: own(unverified.publicKey),
              content: own(unverified.content),
              signature: own(unverified.signature),
            },
          }),
    });
  } else {
    // An error leaves the state as it was (processMessage's contract); the chain goes on.
    results.push({ op: "result", token: request.token, seq: request.seq, ok: false });
  }
  chain.states.set(request.seq, chain.last);
  // Results go out at each turn (TURN_MS), and in between once this many wait: fewer, larger posts.
  if (results.length >= 32) flush();
  if (waitingStates.length > 0) waitingStates = waitingStates.filter((waiting) => !answer(waiting));
}

/** How long the worker runs messages before it takes a turn of the event loop. */
const TURN_MS = 2;

async function run(): Promise<void> {
  running = true;
  let turned = performance.now();
  for (let request = queue.shift(); request !== undefined; request = queue.shift()) {
    await handle(request);
    // A turn of the event loop every few messages, not after each (a tenth of a message's cost): the results
    // so far go out, and a state request or a stop that came meanwhile is read then, not after the queue.
    if (performance.now() - turned >= TURN_MS) {
      flush();
      await new Promise((resolve) => setImmediate(resolve));
      turned = performance.now();
    }
  }
  flush();
  running = false;
}

/**
 * Exits with the heap given back first: the pages of an ended worker's heap stay resident in the process
 * (apps/daemon README, "A young generation that grows for a catch-up"), those it freed before do not.
 */
function end(): void {
  chains.clear();
  queue.length = 0;
  waitingStates = [];
  // memoryReducer.ts runs the same collection; the worker imports no sibling module (under Vitest it runs
  // from its .ts source, whose `./x.js` imports Node cannot resolve).
  (globalThis as { gc?: (options: object) => void }).gc?.({
    type: "major",
    execution: "sync",
    flavor: "last-resort",
  });
  process.exit(0);
}

port.on("message", (requests: AheadRequest[]) => {
  for (const request of requests) {
    if (request.op === "state") {
      if (!answer(request)) waitingStates.push(request);
    } else if (request.op === "stop") {
      chains.delete(request.token);
      waitingStates = waitingStates.filter((waiting) => !answer(waiting));
    } else if (request.op === "end") {
      end();
      return;
    } else {
      queue.push(request);
    }
  }
  if (!running) void run();
});

port.postMessage([{ op: "ready" } satisfies AheadReply]);
