// The API's methods, mapped onto the in-process Daemon. The daemon's operations already speak the API's model
// and throw its ApiErrors; this only routes validated params (and decodes attachments' base64).
import type { Attachment } from "@sotto/api";
import type { Daemon } from "../daemon.js";
import type { Handlers } from "./handlers.js";

export function daemonHandlers(daemon: Daemon): Handlers {
  return {
    status: () => daemon.status(),
    "account.get": () => daemon.getAccount(),
    "conversations.list": (p) => daemon.listConversations(p),
    "conversations.get": (p) => daemon.getConversation(p.conversationId),
    "conversations.create": (p) => daemon.createConversation(p),
    "conversations.addMembers": (p) => daemon.addMembers(p),
    "conversations.removeMembers": (p) => daemon.removeMembers(p),
    "conversations.leave": (p) => daemon.leaveConversation(p),
    "conversations.setTitle": (p) => daemon.setTitle(p),
    "conversations.markRead": (p) => daemon.markRead(p),
    "messages.list": (p) => daemon.listMessages(p),
    "messages.get": (p) => daemon.getMessage(p.conversationId, p.messageId),
    "messages.send": ({ attachments, ...p }) =>
      daemon.sendMessage({ ...p, attachments: attachments?.map(decodeAttachment) }),
    "messages.edit": (p) => daemon.editMessage(p),
    "messages.delete": (p) => daemon.deleteMessage(p),
    "messages.react": (p) => daemon.react(p),
    "messages.unreact": (p) => daemon.unreact(p),
    "contacts.list": () => daemon.listContacts(),
    "contacts.get": (p) => daemon.getContact(p),
    "contacts.verify": (p) => daemon.verifyContact(p),
    "contacts.unverify": (p) => daemon.unverifyContact(p),
    "devices.list": () => daemon.listDevices(),
    "devices.link": () => daemon.linkDevice(),
    "devices.join": (p) => daemon.joinDevice(p),
    "devices.approve": (p) => daemon.approveDevice(p),
    "devices.remove": (p) => daemon.removeDevice(p),
    "sync.now": () => daemon.syncNow(),
  };
}

function decodeAttachment({ data, ...rest }: Attachment) {
  return { ...rest, data: new Uint8Array(Buffer.from(data, "base64")) };
}
