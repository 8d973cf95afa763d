// A backlog of application messages as a sottod sender posts them: encrypted with @sotto/core from the
// sender's stored conversation state and wrapped as sottod wraps them, so the receiver sees exactly what it
// would get from a sottod peer. They are written into the receiver's server-side logs directly (the server's
// own `SqlActivityLog`, beside the running server), because posting them one by one through C2S costs the
// bench far more than the catch-up it measures (6 to 25 posts a second on this loaded machine).
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  type Conversation,
  encryptMessage,
  type JsonObject,
  members,
  newApplicationId,
  ownLeafIndex,
  textToHtml,
  writeApplicationData,
  writeMessageCreate,
} from "@sotto/core";
import { SqlActivityLog, sqliteSql } from "@sotto/fedify";

export interface BacklogInput {
  /** The sender's conversation (its newest state: the sender's daemon must be stopped). */
  readonly conversation: Conversation;
  /** The sender's actor id (on the receiver's server). */
  readonly actor: string;
  /** The data directory of the receiver's sotto-server and the receiver's user name there. */
  readonly serverDir: string;
  readonly owner: string;
  readonly count: number;
  /** The text of message `i`. */
  readonly text: (i: number) => string;
}

/** Messages written per transaction of the server's database. */
const CHUNK = 1000;

/**
 * Encrypts `count` messages in order and appends them to the receiver's `inbox` and `messages` logs, as the
 * server does for a local delivery. Returns the sender's conversation after them.
 */
export async function appendBacklog(input: BacklogInput): Promise<Conversation> {
  // Every member but the sender's device, each actor once.
  const self = ownLeafIndex(input.conversation);
  const recipients = [
    ...new Set(
      members(input.conversation)
        .filter((m) => m.leafIndex !== self)
        .map((m) => m.actorId),
    ),
  ];
  const db = new DatabaseSync(join(input.serverDir, "sotto-server.sqlite"), { timeout: 60_000 });
  try {
    db.exec("PRAGMA synchronous = NORMAL");
    const sql = sqliteSql(db);
    const inbox = new SqlActivityLog(sql, "inbox");
    const messages = new SqlActivityLog(sql, "mls_messages");
    let conversation = input.conversation;
    const start = Date.now();
    for (let from = 0; from < input.count; from += CHUNK) {
      const activities: JsonObject[] = [];
      for (let i = from; i < Math.min(input.count, from + CHUNK); i++) {
        const published = new Date(start + i).toISOString();
        const note = {
          type: "Note" as const,
          id: newApplicationId(),
          attributedTo: input.actor,
          content: textToHtml(input.text(i)),
          published,
        };
        const data = writeApplicationData({
          type: "Create",
          id: newApplicationId(),
          actor: input.actor,
          published,
          object: { form: "embedded", value: note },
        });
        const sent = await encryptMessage(conversation, data);
        conversation = sent.conversation;
        const activity = writeMessageCreate({
          actor: input.actor,
          recipients,
          bytes: sent.message,
          context: conversation.groupId,
          published,
          activityId: `${input.actor}/activities/${randomUUID()}`,
        });
        activities.push(activity as unknown as JsonObject);
      }
      // One commit per chunk, each activity in both logs (as the server's receive writes them).
      await sql.batch(
        activities.flatMap((activity) =>
          [inbox, messages].map(
            (log) => log.prepareAppend(input.owner, activity.id as string, activity).statement,
          ),
        ),
      );
    }
    return conversation;
  } finally {
    db.close();
  }
}
