// The XEP-0114 connection to the XMPP server: reconnects forever (xmpp.js retries every second), keeps
// stanzas written while offline in order and flushes them once online again, and refuses to write a stanza
// whose `from` is outside the component's domain (the server would drop the whole stream for it).
import type { Log } from "../log.js";
import { type Component, component, type Element } from "./xml.js";

export interface ComponentLinkOptions {
  /** `xmpp://host:port` of the server's component port. */
  readonly service: string;
  readonly domain: string;
  readonly secret: string;
  readonly log: Log;
  /** Most stanzas kept while offline; beyond it the oldest are dropped with an error log. */
  readonly maxBuffered?: number;
}

export class ComponentLink {
  readonly domain: string;
  readonly #xmpp: Component;
  readonly #log: Log;
  readonly #buffer: Element[] = [];
  readonly #maxBuffered: number;
  #stopped = false;
  #flushing = false;

  constructor(options: ComponentLinkOptions, onStanza: (stanza: Element) => void) {
    this.domain = options.domain.toLowerCase();
    this.#log = options.log;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    this.#xmpp = component({ service: options.service, domain: options.domain, password: options.secret });
    // xmpp.js' iq callee (its middleware, the only "element" listener so far) answers every iq it has no handler
    // for with service-unavailable, beside the gateway's own answer (clients saw either, whichever came first).
    // The gateway answers every stanza itself from "stanza"; the handshake's own listener is added later.
    this.#xmpp.removeAllListeners("element");
    this.#xmpp.on("error", (e: Error) => this.#log("warn", "xmpp.error", { error: e.message }));
    this.#xmpp.on("stanza", onStanza);
    this.#xmpp.on("online", () => {
      this.#log("info", "xmpp.online", { domain: this.domain });
      void this.#flush();
    });
    this.#xmpp.on("offline", () => this.#log("info", "xmpp.offline"));
    this.#xmpp.on("disconnect", () => {
      if (!this.#stopped) this.#log("warn", "xmpp.disconnected", { retryMs: this.#xmpp.reconnect.delay });
    });
  }

  get online(): boolean {
    return this.#xmpp.status === "online";
  }

  /** Connects; if the server is not there yet, returns anyway and keeps retrying in the background. */
  async start(): Promise<void> {
    try {
      await this.#xmpp.start();
    } catch (e) {
      this.#log("warn", "xmpp.start_failed", { error: (e as Error).message });
    }
  }

  /** Resolves once online (bounded by `timeoutMs`). */
  async waitOnline(timeoutMs = 10_000): Promise<void> {
    if (this.online) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#xmpp.off("online", done);
        reject(new Error(`component ${this.domain} not online within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#xmpp.once("online", done);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#xmpp.reconnect.stop();
    if (this.#xmpp.status !== "offline") await this.#xmpp.stop().catch(() => undefined);
  }

  /** Writes a stanza, or keeps it until the link is back. Returns false if the stanza was refused. */
  send(stanza: Element): boolean {
    if (!this.ownsFrom(stanza.attrs.from)) {
      this.#log("error", "xmpp.refused_from", { from: stanza.attrs.from ?? null });
      return false;
    }
    this.#buffer.push(stanza);
    if (this.#buffer.length > this.#maxBuffered) {
      this.#buffer.shift();
      this.#log("error", "xmpp.buffer_overflow", { max: this.#maxBuffered });
    }
    void this.#flush();
    return true;
  }

  /** Waits (bounded) until every queued stanza is written, while the link is up. */
  async drain(timeoutMs = 5_000): Promise<void> {
    for (let waited = 0; this.#buffer.length > 0 && this.online && waited < timeoutMs; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stanzas waiting for the link. */
  get buffered(): number {
    return this.#buffer.length;
  }

  ownsFrom(from: string | undefined): boolean {
    if (!from) return false;
    const bare = from.split("/")[0] ?? "";
    const domain = bare.slice(bare.lastIndexOf("@") + 1).toLowerCase();
    return domain === this.domain;
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.online && this.#buffer.length > 0) {
        const stanza = this.#buffer[0] as Element;
        try {
          await this.#xmpp.send(stanza);
          this.#buffer.shift();
        } catch (e) {
          this.#log("warn", "xmpp.send_failed", { error: (e as Error).message });
          break; // the link went down; the next "online" flushes again
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
