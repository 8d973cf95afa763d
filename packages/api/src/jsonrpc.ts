// JSON-RPC 2.0 framing, as used on the wire: one JSON object per WebSocket text frame (no batches).
import { z } from "zod";
import { RpcError } from "./errors.js";
import { ApiEvent, EVENT_METHOD } from "./events.js";

export const RequestId = z.union([z.string().max(128), z.int()]);

export const RpcRequest = z.object({
  jsonrpc: z.literal("2.0"),
  id: RequestId.optional(),
  method: z.string().max(128),
  params: z.unknown().optional(),
});

export const RpcResponse = z.union([
  z.object({ jsonrpc: z.literal("2.0"), id: RequestId.nullable(), result: z.unknown() }),
  z.object({ jsonrpc: z.literal("2.0"), id: RequestId.nullable(), error: RpcError }),
]);

export const EventNotification = z.object({
  jsonrpc: z.literal("2.0"),
  method: z.literal(EVENT_METHOD),
  params: ApiEvent,
});

export type RequestId = z.infer<typeof RequestId>;
export type RpcRequest = z.infer<typeof RpcRequest>;
export type RpcResponse = z.infer<typeof RpcResponse>;
export type EventNotification = z.infer<typeof EventNotification>;

export function resultFrame(id: RequestId | null, result: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, result });
}

export function errorFrame(id: RequestId | null, error: RpcError): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error });
}

export function eventFrame(event: ApiEvent): string {
  return JSON.stringify({ jsonrpc: "2.0", method: EVENT_METHOD, params: event });
}
