// @xmpp/component 0.13.1 is CommonJS: take its helpers from the default export (LIBRARY-NOTES.md).
import pkg from "@xmpp/component";

export type { Component, Element, Jid, Node } from "@xmpp/component";
export const { component, jid, xml } = pkg;
