// Issue 14, point 7: a store whose clear columns were changed on disk (a message moved in its thread) is
// refused as `tampered` through the API, by its own error code, and the daemon's log says so.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SottoClient } from "@sotto/api";
import { describe, expect, it } from "vitest";
import { STORE_FILE } from "../daemon.js";
import { startCast, useWorld } from "../testing/world.js";
import { serveApi } from "./serve.js";
import { TOKEN_FILE } from "./token.js";

describe("a tampered store through the API", () => {
  const world = useWorld();

  it("answers tampered (not internal_error) when a message's order was changed on disk", async () => {
    const {
      daemons: [alice, bob],
    } = await startCast(world(), ["alice", "bob"]);
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    const sent = await alice.sendMessage({ conversationId, text: "where it belongs" });
    await alice.stop();

    const dataDir = join(world().dir, "alice-data");
    const db = new DatabaseSync(join(dataDir, STORE_FILE));
    db.prepare("UPDATE messages SET at = at - 86400000 WHERE id = ?").run(sent.id);
    db.close();

    const reopened = await world().reopen("alice");
    const lines: string[] = [];
    const server = await serveApi(reopened, { stateDir: dataDir, log: (line) => lines.push(line) });
    const token = readFileSync(join(dataDir, TOKEN_FILE), "utf8").trim();
    const client = await SottoClient.connect({ url: server.url, token, reconnect: false });
    try {
      await expect(client.call("messages.list", { conversationId })).rejects.toMatchObject({
        code: "tampered",
        rpcCode: -32040,
      });
      await expect(client.call("messages.get", { conversationId, messageId: sent.id })).rejects.toMatchObject(
        { code: "tampered" },
      );
      expect(lines.some((line) => line.includes("integrity check"))).toBe(true);
      expect(lines.some((line) => line.includes("method failed"))).toBe(false);
      // The rest of the API still answers.
      expect((await client.call("status")).account?.actorId).toBe(alice.actorId);
    } finally {
      client.close();
      await server.close();
    }
  });
});
