// The minimal frontend of docs/api.md (included there verbatim; run by the daemon's e2e test).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SottoClient } from "@sotto/api";

const home = process.env.HOME ?? ".";
const stateDir = process.env.SOTTO_STATE_DIR ?? join(home, ".local/state/sotto");
// Read where the daemon is before every (re)connect: a restarted sottod may listen on another port.
const url = async () => JSON.parse(await readFile(join(stateDir, "api.json"), "utf8")).url;
const token = async () => (await readFile(join(stateDir, "api-token"), "utf8")).trim();

const client = await SottoClient.connect({ url, token });
const { conversations } = await client.call("conversations.list");
for (const c of conversations) {
  const name = c.title ?? c.members.map((m) => m.handle).join(", ");
  console.log(c.id, name, c.unread);
}

// Show each new message; events only say what changed, so fetch it.
client.onEvent(async (event) => {
  if (event.type === "message.created") {
    const { conversationId, messageId } = event;
    const m = await client.call("messages.get", { conversationId, messageId });
    console.log(`[${m.conversationId}] ${m.author}: ${m.content}`);
  }
  if (event.type === "gap") console.log("missed some events: re-query everything");
});
await client.subscribe(); // only new events; pass { since } to catch up from a saved seq

const first = conversations[0];
if (first) {
  await client.call("messages.send", { conversationId: first.id, text: "hello from my own frontend" });
}
