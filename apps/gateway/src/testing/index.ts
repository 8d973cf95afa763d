// Test and benchmark helpers: a private Prosody and XMPP users on it (`@sotto/gateway/testing`).

export { xml } from "../xmpp/xml.js";
export {
  ensureProsody,
  freePort,
  type Prosody,
  ProsodyError,
  type ProsodyOptions,
  startProsody,
} from "./prosody.js";
export { waitFor } from "./wait.js";
export { connectUser, type XmppUser, type XmppUserOptions } from "./xmpp-user.js";
