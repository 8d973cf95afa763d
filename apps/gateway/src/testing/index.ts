// Test and benchmark helpers: a private Prosody, XMPP users on it, sottod users and the gateway (`@sotto/gateway/testing`).

export { xml } from "../xmpp/xml.js";
export { startTestGateway, type TestGatewayOptions } from "./gateway.js";
export { type GatewayProcess, type GatewayProcessOptions, startGatewayProcess } from "./process.js";
export {
  ensureProsody,
  freePort,
  type Prosody,
  ProsodyError,
  type ProsodyOptions,
  startProsody,
} from "./prosody.js";
export { type Home, type SottodUser, startSottod } from "./sottod.js";
export { waitFor } from "./wait.js";
export { connectUser, loginUser, type XmppUser, type XmppUserOptions } from "./xmpp-user.js";
