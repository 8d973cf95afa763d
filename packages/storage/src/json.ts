/** The values a store keeps as JSON (message bodies, event data, settings, outbox payloads). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };
