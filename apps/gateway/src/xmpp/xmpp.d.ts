// Just enough types for the xmpp.js packages we use (none ships its own). Elements are ltx Elements.
declare module "@xmpp/component" {
  import type { EventEmitter } from "node:events";

  export type Node = Element | string;
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Node[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    append(...nodes: Node[]): Element;
    clone(): Element;
    toString(): string;
  }
  export function xml(
    name: string,
    attrs?: Record<string, string | undefined> | null,
    ...children: (Node | Node[] | null | undefined)[]
  ): Element;

  export interface Jid {
    local: string;
    domain: string;
    resource: string;
    bare(): Jid;
    toString(): string;
  }
  export function jid(address: string): Jid;

  export interface Reconnect extends EventEmitter {
    delay: number;
    stop(): void;
    start(): void;
  }

  export interface Component extends EventEmitter {
    status: string;
    jid: Jid | null;
    reconnect: Reconnect;
    start(): Promise<Jid>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
  }
  export function component(options: { service: string; domain: string; password: string }): Component;

  const pkg: { component: typeof component; xml: typeof xml; jid: typeof jid };
  export default pkg;
}

declare module "@xmpp/client" {
  import type { EventEmitter } from "node:events";
  import type { Element, Jid, Reconnect } from "@xmpp/component";

  export interface Client extends EventEmitter {
    status: string;
    jid: Jid | null;
    reconnect: Reconnect;
    streamManagement: EventEmitter & { enabled: boolean };
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    start(): Promise<Jid>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
  }
  export function client(options: {
    service: string;
    domain?: string;
    username?: string;
    password?: string;
    resource?: string;
  }): Client;
  export { jid, xml } from "@xmpp/component";
}
