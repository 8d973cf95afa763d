// The API's events as @sotto/storage keeps them: `{ type, data }` rows with a `seq`. The daemon writes
// `toEventInput(body)` into a unit's `events`; the server reads them back as typed `ApiEvent`s.
import { ApiEvent, EventBody } from "@sotto/api";
import type { EventInput, JsonValue } from "@sotto/storage";
import type { EventLog, EventPage } from "./event-hub.js";

/** The parts of @sotto/storage's `Store` the API reads. */
export interface StoreEvents {
  since(
    after: number,
    limit: number,
  ): {
    readonly events: readonly { readonly seq: number; readonly type: string; readonly data: unknown }[];
    readonly gap: { readonly from: number; readonly to: number } | null;
    readonly last: number;
  };
  onCommit(listener: () => void): () => void;
}

/** An API event as a store `EventInput`. The body is validated: nothing off-contract enters the log. */
export function toEventInput(body: EventBody): EventInput {
  const { type, ...data } = EventBody.parse(body);
  return { type, data: data as JsonValue };
}

/**
 * The store's event log as the API server's `EventLog`. A row that no longer matches the contract (written by
 * an older daemon, say) is skipped and reported, not sent: clients only ever see valid events.
 */
export function storeEventLog(store: StoreEvents, onInvalid: (seq: number) => void = () => {}): EventLog {
  return {
    since(after, limit): EventPage {
      const page = store.since(after, limit);
      const events: ApiEvent[] = [];
      for (const row of page.events) {
        const parsed = ApiEvent.safeParse({ ...(row.data as object), type: row.type, seq: row.seq });
        if (parsed.success) events.push(parsed.data);
        else onInvalid(row.seq);
      }
      return { events, gap: page.gap, last: page.last, through: page.events.at(-1)?.seq ?? after };
    },
    onCommit: (listener) => store.onCommit(() => listener()),
  };
}
