import { createApplicationMessage, encodeMlsMessage } from "ts-mls";
import type { Conversation } from "./conversation.js";
import { mlsError } from "./errors.js";
import { suiteImpl } from "./suite.js";

/** Encrypts application data (the AS2 JSON bytes) as a PrivateMessage framed in an MLSMessage. */
export async function encryptMessage(
  conversation: Conversation,
  data: Uint8Array,
): Promise<{ readonly conversation: Conversation; readonly message: Uint8Array }> {
  const cs = await suiteImpl(conversation.state.groupContext.cipherSuite);
  const { newState, privateMessage } = await createApplicationMessage(conversation.state, data, cs).catch(
    (cause: unknown) => {
      throw mlsError("unusable", "cannot send in this conversation", cause);
    },
  );
  return {
    conversation: { ...conversation, state: newState },
    message: encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage }),
  };
}
