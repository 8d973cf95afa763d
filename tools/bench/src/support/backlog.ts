// A backlog of application messages posted straight to the sender's outbox: encrypted with @sotto/core from
// the sender's stored conversation state and wrapped as sottod wraps them, so receivers see exactly what a
// sottod sender posts, at a rate the bench can afford (a sottod sends one message per durable store commit).
import {
  type Conversation,
  encryptMessage,
  members,
  newApplicationId,
  ownLeafIndex,
  textToHtml,
  writeApplicationData,
  writeMessageCreate,
} from "@sotto/core";

export interface BacklogInput {
  /** The sender's conversation (its newest state: the sender's daemon must be stopped). */
  readonly conversation: Conversation;
  readonly actor: string;
  readonly token: string;
  readonly count: number;
  /** The text of message `i`. */
  readonly text: (i: number) => string;
}

/**
 * Encrypts and posts `count` messages in order (one request at a time, so the server lists them in sending
 * order). Returns the sender's conversation after them.
 */
export async function postBacklog(input: BacklogInput): Promise<Conversation> {
  const actor = (await (
    await fetch(input.actor, { headers: { accept: "application/activity+json" } })
  ).json()) as { outbox: string };
  // Every member but the sender's device, each actor once (the sender's own actor: a two-member group).
  const self = ownLeafIndex(input.conversation);
  const recipients = [
    ...new Set(
      members(input.conversation)
        .filter((m) => m.leafIndex !== self)
        .map((m) => m.actorId),
    ),
  ];
  let conversation = input.conversation;
  const start = Date.now();
  for (let i = 0; i < input.count; i++) {
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
    });
    const response = await fetch(actor.outbox, {
      method: "POST",
      headers: { authorization: `Bearer ${input.token}`, "content-type": "application/activity+json" },
      body: JSON.stringify(activity),
    });
    if (!response.ok) throw new Error(`posting backlog message ${i}: ${response.status}`);
    await response.arrayBuffer();
  }
  return conversation;
}
