import { type ApiEvent, SottoClient } from "@sotto/api";
import { readToken } from "@sotto/daemon/api";
import type { RunningDaemon } from "./daemonProcess.js";

/** Follows one daemon's events for the person watching the terminal. */
export interface Monitor {
  /** The seq of the last event seen: where the next run resumes, so it can tell what arrived meanwhile. */
  readonly lastSeq: number | undefined;
  /** From now on, print each message that arrives (until then they are only counted while catching up). */
  goLive(): void;
  close(): void;
}

export interface MonitorOptions {
  readonly daemon: RunningDaemon;
  /** Replay the events after this seq first (the previous run's `lastSeq`). */
  readonly since?: number;
  /** How people are shown: the demo's names for its own accounts, else the actor id. */
  readonly nameOf: (actorId: string) => string;
  readonly say: (line: string) => void;
  readonly progressEveryMs?: number;
}

/**
 * Shows what a daemon is doing that takes time or matters to a newcomer: catching up with a backlog (a count
 * every few seconds while its sync state is `syncing`, then a summary) and, once live, every message that
 * arrives from someone else, decrypted.
 */
export async function monitorDaemon(options: MonitorOptions): Promise<Monitor> {
  const { daemon, say } = options;
  const client = await SottoClient.connect({
    url: daemon.apiUrl,
    token: await readToken(daemon.apiTokenFile),
    reconnect: false,
  });
  const status = await client.call("status");
  const self = status.account?.actorId;
  let live = false;
  // Replayed events say it themselves; without a replay, the daemon may be catching up already.
  let syncing = options.since === undefined && status.sync.state === "syncing";
  let caughtUp = 0;
  let reported = 0;
  let lastSeq = options.since;
  // Events are handled one after the other: a message is fetched before the next event is looked at.
  let queue = Promise.resolve();
  const timer = setInterval(() => {
    if (syncing && caughtUp > reported) {
      reported = caughtUp;
      say(`${daemon.name}: catching up with the server ... ${caughtUp} new messages so far`);
    }
  }, options.progressEveryMs ?? 2_000);

  const handle = async (event: ApiEvent): Promise<void> => {
    lastSeq = event.seq;
    if (event.type === "sync.state") {
      const wasSyncing = syncing;
      syncing = event.sync.state === "syncing";
      if (wasSyncing && !syncing && caughtUp > 0) {
        say(`${daemon.name}: in sync; caught up with ${caughtUp} new message${caughtUp === 1 ? "" : "s"}`);
      }
      if (!syncing) caughtUp = reported = 0;
      if (event.sync.state === "offline" || event.sync.state === "error") {
        say(`${daemon.name}: sync ${event.sync.state}${event.sync.error ? `: ${event.sync.error}` : ""}`);
      }
      return;
    }
    if (event.type !== "message.created") return;
    // What a catch-up brings is only counted, not fetched (a message sent from here meanwhile counts too).
    if (syncing) {
      caughtUp += 1;
      return;
    }
    if (!live) return;
    const message = await client
      .call("messages.get", { conversationId: event.conversationId, messageId: event.messageId })
      .catch(() => undefined);
    if (message === undefined || message.author === self) return;
    say(`${daemon.name} received from ${options.nameOf(message.author)}: "${message.content}"`);
  };
  client.onEvent((event) => {
    queue = queue.then(() => handle(event)).catch(() => {});
  });
  await client.subscribe(options.since === undefined ? {} : { since: options.since });
  return {
    get lastSeq() {
      return lastSeq;
    },
    goLive: () => {
      live = true;
    },
    close: () => {
      clearInterval(timer);
      client.close();
    },
  };
}
