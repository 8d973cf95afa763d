import type { EventBody } from "@sotto/api";
import type { EventInput, JsonValue } from "@sotto/storage";

/** An API event (@sotto/api's EventBody) as the store's event log keeps it: `type` beside the other fields. */
export function event(body: EventBody): EventInput {
  const { type, ...data } = body;
  return { type, data: data as JsonValue };
}
