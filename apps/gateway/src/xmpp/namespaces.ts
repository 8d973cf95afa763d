// XML namespaces of the XEPs the gateway speaks, in one place.
export const NS = {
  discoInfo: "http://jabber.org/protocol/disco#info",
  discoItems: "http://jabber.org/protocol/disco#items",
  caps: "http://jabber.org/protocol/caps", // XEP-0115
  stanzas: "urn:ietf:params:xml:ns:xmpp-stanzas",
  receipts: "urn:xmpp:receipts", // XEP-0184
  markers: "urn:xmpp:chat-markers:0", // XEP-0333
  correction: "urn:xmpp:message-correct:0", // XEP-0308
  retraction: "urn:xmpp:message-retract:1", // XEP-0424
  retraction0: "urn:xmpp:message-retract:0", // XEP-0424 before 0.4, fastened (XEP-0422)
  fasten: "urn:xmpp:fasten:0", // XEP-0422
  reactions: "urn:xmpp:reactions:0", // XEP-0444
  fallback: "urn:xmpp:fallback:0", // XEP-0428
  sid: "urn:xmpp:sid:0", // XEP-0359 origin-id / stanza-id
  hints: "urn:xmpp:hints", // XEP-0334
  oob: "jabber:x:oob", // XEP-0066
  chatStates: "http://jabber.org/protocol/chatstates", // XEP-0085
  muc: "http://jabber.org/protocol/muc",
  nick: "http://jabber.org/protocol/nick", // XEP-0172
  ping: "urn:xmpp:ping",
  version: "jabber:iq:version",
} as const;
