import { describe, expect, it } from "vitest";
import { parseServerSentEvents, type ServerSentEvent } from "./sse.js";

async function parse(chunks: string[]): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const out: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(body())) out.push(event);
  return out;
}

describe("parseServerSentEvents", () => {
  it("reads ids, multi-line data and comments across arbitrary chunk boundaries", async () => {
    const text =
      ': keep-alive\n\nid: a1\ndata: {"x":\ndata: 1}\n\nid: a2\r\ndata:two\r\n\r\nevent: ping\ndata: p\n\n';
    const whole = await parse([text]);
    expect(whole).toEqual([
      { event: "message", data: '{"x":\n1}', id: "a1", retry: undefined },
      { event: "message", data: "two", id: "a2", retry: undefined },
      { event: "ping", data: "p", id: "a2", retry: undefined },
    ]);
    // The same bytes split one character at a time (so \r and \n of one CRLF arrive apart) parse alike.
    expect(await parse([...text])).toEqual(whole);
  });

  it("drops an event left unterminated when the stream ends", async () => {
    expect(await parse(["id: 1\ndata: done\n\nid: 2\ndata: cut"])).toEqual([
      { event: "message", data: "done", id: "1", retry: undefined },
    ]);
  });
});
