import type { ApiEvent, Message } from "@sotto/api";
import { SottoClient } from "@sotto/api";
import { readToken } from "@sotto/daemon/api";
import type { RunningDaemon } from "./daemonProcess.js";
import { DemoError } from "./errors.js";

export interface Exchange {
  readonly conversationId: string;
  /** True when this run started the conversation (later runs reuse it). */
  readonly created: boolean;
  readonly sent: Message;
  /** The same message as the receiving daemon decrypted and stored it. */
  readonly received: Message;
}

async function connect(daemon: RunningDaemon): Promise<SottoClient> {
  return SottoClient.connect({
    url: daemon.apiUrl,
    token: await readToken(daemon.apiTokenFile),
    reconnect: false,
  });
}

/**
 * The first message, driven only through the two daemons' local APIs (as any frontend would): `from` starts
 * (or reuses) a conversation with `toActor` and sends `text`; resolves once `to` has it decrypted.
 */
export async function sendFirstMessage(options: {
  readonly from: RunningDaemon;
  readonly to: RunningDaemon;
  readonly toActor: string;
  readonly text: string;
  readonly timeoutMs?: number;
  readonly progress: (line: string) => void;
}): Promise<Exchange> {
  // Generous: the receiver may first be catching up with a backlog (the monitor shows its progress).
  const timeoutMs = options.timeoutMs ?? 120_000;
  const sender = await connect(options.from);
  const receiver = await connect(options.to);
  try {
    // Subscribe before sending, so the arrival cannot slip between the send and the subscription.
    const arrivals: ApiEvent[] = [];
    let wake: () => void = () => {};
    receiver.onEvent((event) => {
      arrivals.push(event);
      wake();
    });
    await receiver.subscribe();

    const { conversations } = await sender.call("conversations.list");
    const existing = conversations.find((c) => c.members.some((m) => m.actorId === options.toActor));
    let conversationId: string;
    if (existing) {
      conversationId = existing.id;
      options.progress(
        `${options.from.name} already has a conversation with ${options.to.name}: ${conversationId}`,
      );
    } else {
      options.progress(
        `${options.from.name} starts an MLS group with ${options.to.name} (fetches a KeyPackage, sends a Welcome) ...`,
      );
      conversationId = (await sender.call("conversations.create", { members: [options.toActor] })).id;
    }
    const sent = await sender.call("messages.send", { conversationId, text: options.text });
    options.progress(
      `${options.from.name} sent message ${sent.id} (encrypted by ${options.from.name}'s daemon)`,
    );

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const arrived = arrivals.find(
        (event): event is Extract<ApiEvent, { type: "message.created" }> =>
          event.type === "message.created" && event.messageId === sent.id,
      );
      if (arrived) {
        const { messages } = await receiver.call("messages.list", {
          conversationId: arrived.conversationId,
          limit: 50,
        });
        const received = messages.find((m) => m.id === sent.id);
        if (received) return { conversationId, created: existing === undefined, sent, received };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DemoError(
          "exchange_failed",
          `${options.to.name}'s daemon did not receive message ${sent.id} within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    sender.close();
    receiver.close();
  }
}
