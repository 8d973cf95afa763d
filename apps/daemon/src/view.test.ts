import { Message } from "@sotto/api";
import type { MessageRecord } from "@sotto/storage";
import { describe, expect, it } from "vitest";
import { isListable, messageView } from "./view.js";

// isListable answers plain messages without running the API's Message schema: it must agree with the schema.
describe("isListable", () => {
  const base: MessageRecord = {
    id: "urn:uuid:0b6c8a52-1d4e-4a7e-9c1f-5f3c2a8d9e01",
    conversation: "urn:uuid:6a1d1e8e-2f0b-4c3e-8a8b-0c9d2e7f1a22",
    author: "https://a.example/users/alice",
    at: Date.UTC(2026, 11, 2, 12),
    direction: "in",
    state: "received",
    body: { type: "Note", content: "<p>hi</p>", mediaType: "text/html" },
  };
  const image = { type: "Image", mediaType: "image/png", content: "aGVsbG8=" };
  // Every combination of these values, each field in turn, valid and not.
  const variants: Record<string, unknown[]> = {
    id: ["urn:uuid:1", "", "x".repeat(2048), "x".repeat(2049)],
    conversation: ["urn:uuid:2", "", "c".repeat(512), "c".repeat(513)],
    author: ["https://a.example/users/alice", "alice", "", "mailto:bob@example", "http://[::1"],
    at: [base.at, Date.UTC(9999, 11, 31), Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1)],
    direction: ["in", "out"],
    state: ["received", "queued", "sent"],
    body: [
      base.body,
      { inReplyTo: "urn:uuid:3" },
      { inReplyTo: "" },
      { inReplyTo: "y".repeat(2049) },
      { inReplyTo: { id: "urn:uuid:4" } },
      { attachment: [image] },
      { attachment: [{ ...image, content: "**" }] },
      { ...image, encoding: "base64" },
      { "sotto:contentLength": 200_000 },
      { "sotto:contentLength": -1 },
      null,
    ],
  };
  const cases: MessageRecord[] = Object.entries(variants).flatMap(([field, values]) =>
    values.map((value) => ({ ...base, [field]: value }) as MessageRecord),
  );

  it.each(cases.map((message) => [JSON.stringify(message).slice(0, 120), message]))(
    "agrees with the API's Message schema: %s",
    (_name, message) => {
      for (const editedAt of [null, message.at]) {
        const view = messageView({ ...message, editedAt, deletedAt: null, updatedAt: message.at }, [], []);
        expect(isListable(message, editedAt)).toBe(Message.safeParse(view).success);
      }
    },
  );

  it("refuses what the API cannot return", () => {
    expect(cases.filter((message) => !isListable(message)).length).toBeGreaterThanOrEqual(9);
  });
});
