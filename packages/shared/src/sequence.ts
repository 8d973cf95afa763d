// Pipelined requests kept in order (issue 19): a sender may have several of one stream's requests in flight at
// once, and a receiver that honours the header stores them in the sender's order. sotto-server uses it for its
// deliveries to another sotto-server (S2S) and accepts it on its users' outbox POSTs (C2S, from sottod).
//
// Each such request carries `Sotto-Sequence: <stream> <n> <done>`: it is the n-th request of the sender's
// stream `stream`, and every request of that stream numbered up to `done` has settled at the sender (answered,
// or failed and queued again). A server announces that it keeps this order with an actor property: its
// deliveries' receivers with `sottoSequencedDelivery`, its outboxes with `sottoSequencedOutbox`. A sender
// pipelines only where the property says so, and sends one request at a time (no header) everywhere else.

/** The request header; lowercase, as Fedify and node:http hand headers over. */
export const SEQUENCE_HEADER = "sotto-sequence";

/** The actor property (value 1) by which a server announces that its inbox honours {@link SEQUENCE_HEADER}. */
export const SEQUENCED_DELIVERY = "sottoSequencedDelivery";

/** The actor property (value 1) by which a server announces that the actor's outbox honours it. */
export const SEQUENCED_OUTBOX = "sottoSequencedOutbox";

export interface Sequence {
  readonly stream: string;
  readonly n: number;
  readonly done: number;
}

export function formatSequence(sequence: Sequence): string {
  return `${sequence.stream} ${sequence.n} ${sequence.done}`;
}

/** A well-formed header value (`done` < `n`), else undefined: the request is then handled as it comes. */
export function parseSequence(value: string | null | undefined): Sequence | undefined {
  const match = /^([A-Za-z0-9_-]{8,64}) ([1-9][0-9]{0,14}) (0|[1-9][0-9]{0,14})$/.exec(value?.trim() ?? "");
  if (match === null) return undefined;
  const n = Number(match[2]);
  const done = Number(match[3]);
  return done < n ? { stream: match[1] as string, n, done } : undefined;
}

/** The sending side of one stream: numbers requests in the order they are sent, and knows which settled. */
export class SequenceStream {
  readonly id: string = crypto.randomUUID().replaceAll("-", "");
  #last = 0;
  #done = 0;
  readonly #settled = new Set<number>();

  /** Numbers the next request; `header` is its {@link SEQUENCE_HEADER} value. */
  next(): { readonly n: number; readonly header: string } {
    const n = ++this.#last;
    return { n, header: formatSequence({ stream: this.id, n, done: this.#done }) };
  }

  /** Request `n` was answered, or failed (and will be sent again with a new number, if at all). */
  settle(n: number): void {
    this.#settled.add(n);
    while (this.#settled.delete(this.#done + 1)) this.#done++;
  }
}
