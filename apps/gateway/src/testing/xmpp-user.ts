// An XMPP user for tests and benchmarks: @xmpp/client on a loopback Prosody, with a bounded "next stanza" wait.
import { setTimeout as sleep } from "node:timers/promises";
import { client } from "@xmpp/client";
import { type Element, xml } from "@xmpp/component";

export interface XmppUser {
  /** The full JID this session is bound to. */
  readonly jid: string;
  readonly bare: string;
  /** Every stanza received so far, oldest first. */
  readonly received: readonly Element[];
  send(stanza: Element): Promise<void>;
  /** Waits for a stanza (already received and not yet taken, or arriving) that matches. */
  next(match: (stanza: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Sends an iq and waits for its result (rejects on an error reply). */
  iq(stanza: Element, timeoutMs?: number): Promise<Element>;
  stop(): Promise<void>;
}

export interface XmppUserOptions {
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  readonly resource?: string;
}

/** Logs `username` in to a test Prosody; the password defaults to the tests' convention, `pw-<username>`. */
export function loginUser(
  prosody: { readonly c2sService: string; readonly host: string },
  username: string,
  password = `pw-${username}`,
): Promise<XmppUser> {
  return connectUser({ service: prosody.c2sService, domain: prosody.host, username, password });
}

export async function connectUser(options: XmppUserOptions): Promise<XmppUser> {
  const xmpp = client({ ...options, resource: options.resource ?? "test" });
  const received: Element[] = [];
  const taken = new WeakSet<Element>();
  const waiters = new Set<(stanza: Element) => boolean>();
  xmpp.on("error", () => {
    // Connection errors surface as timeouts of next()/send(); reconnect retries.
  });
  xmpp.on("stanza", (stanza: Element) => {
    received.push(stanza);
    for (const waiter of waiters) if (waiter(stanza)) break;
  });
  await xmpp.start();
  // Sending before stream management is enabled makes Prosody drop the stream (LIBRARY-NOTES.md).
  for (let i = 0; i < 400 && !xmpp.streamManagement.enabled; i++) await sleep(25);
  if (!xmpp.streamManagement.enabled)
    throw new Error(`stream management not enabled for ${options.username}`);
  // Fetching the roster makes the session "interested" (Prosody sends it presence and roster pushes);
  // initial presence makes it available, so messages to the bare JID are routed to it.
  await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await xmpp.send(xml("presence"));
  const full = xmpp.jid?.toString() ?? "";
  return {
    jid: full,
    bare: full.split("/")[0] ?? full,
    received,
    send: (stanza) => xmpp.send(stanza),
    next(match, timeoutMs = 20_000) {
      const ready = received.find((s) => !taken.has(s) && match(s));
      if (ready) {
        taken.add(ready);
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        const waiter = (stanza: Element) => {
          if (taken.has(stanza) || !match(stanza)) return false;
          taken.add(stanza);
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(stanza);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching stanza for ${full} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    iq: (stanza, timeoutMs = 10_000) => xmpp.iqCaller.request(stanza, timeoutMs),
    async stop() {
      xmpp.reconnect.stop();
      await xmpp.stop().catch(() => undefined);
    },
  };
}
