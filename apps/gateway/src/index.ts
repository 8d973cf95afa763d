// @sotto/gateway (sotto-xmpp): an XMPP <-> MLS-over-ActivityPub gateway. See README.md.
export {
  type BareJid,
  formatBareJid,
  handleForJid,
  jidForHandle,
  jidForUsername,
  parseBareJid,
  usernameForJid,
} from "./addressing.js";
export { Bridge, type BridgeOptions, ENCRYPTION_NOTICE, GROUP_INVITATION } from "./bridge.js";
export type { Chat, Link } from "./chat.js";
export { ConfigError, type GatewayConfig, loadConfig, readConfig } from "./config.js";
export { ActivityError, AddressError, FediverseError, MediaError, StanzaError } from "./errors.js";
export type {
  Delivery,
  FediverseActor,
  FediverseSide,
  GroupView,
  Membership,
  Received,
  Stored,
} from "./fediverse.js";
export { type Gateway, type GatewayOptions, startGateway } from "./gateway.js";
export { escapeLocalpart, unescapeLocalpart } from "./jid-escape.js";
export { jsonLog, type Log, type LogLevel } from "./log.js";
export {
  type ChangeContext,
  chatForChange,
  type FediverseChange,
  type Incoming,
  type KnownMessage,
  type Operation,
  type OperationContext,
  operationsForChat,
} from "./mapping.js";
export {
  fetchFiles,
  formatSize,
  MAX_INLINE_BYTES,
  type MediaFile,
  type MediaServer,
  startMediaServer,
} from "./media.js";
export { Puppets, type PuppetsOptions } from "./puppets.js";
export { GatewayState, type KnownActor } from "./state.js";
export { htmlToText } from "./text.js";
export { readChatStanza, writeChatStanza } from "./xmpp/chat-stanza.js";
export { ComponentLink, type ComponentLinkOptions } from "./xmpp/component-link.js";
export {
  isRoomLocalpart,
  type OccupantStore,
  type RoomHandlers,
  type RoomSnapshot,
  Rooms,
  roomLocalpart,
} from "./xmpp/muc.js";
export { XmppSide, type XmppSideHandlers, type XmppSideOptions } from "./xmpp/xmpp-side.js";
