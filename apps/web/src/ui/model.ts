// What the page shows, kept from the API: conversations, the open conversations' messages, status, contacts.
// Events say what changed; the model re-queries that one thing (one request per event) and tells the views.
// Messages are keyed by id, so an event replayed after a reconnect changes nothing twice.
import type {
  Account,
  ApiEvent,
  ConnectionState,
  Contact,
  Conversation,
  Device,
  Message,
  SottoClient,
  Status,
} from "@sotto/api";

/** One conversation's loaded messages: the newest pages, oldest first. */
export interface Thread {
  readonly ids: readonly string[];
  readonly byId: ReadonlyMap<string, Message>;
  /** Cursor for older messages; null when the oldest is loaded. */
  readonly before: string | null;
}

export interface ModelState {
  readonly connection: ConnectionState;
  readonly account: Account | undefined;
  readonly status: Status | undefined;
  readonly conversations: readonly Conversation[];
  readonly threads: ReadonlyMap<string, Thread>;
  readonly contacts: readonly Contact[] | undefined;
  readonly devices: readonly Device[] | undefined;
  /** Contacts whose device keys changed since this page loaded (actor ids). */
  readonly keyChanged: ReadonlySet<string>;
}

const PAGE = 100;
const OLDER_PAGE = 200;

export class Model {
  readonly client: SottoClient;
  #state: ModelState;
  readonly #listeners = new Set<() => void>();
  #queue: Promise<void> = Promise.resolve();
  #statusTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: SottoClient) {
    this.client = client;
    this.#state = {
      connection: client.state,
      account: undefined,
      status: undefined,
      conversations: [],
      threads: new Map(),
      contacts: undefined,
      devices: undefined,
      keyChanged: new Set(),
    };
  }

  get state(): ModelState {
    return this.#state;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes first, then loads: an event that lands during the load is re-queried, never missed. */
  async start(): Promise<void> {
    this.client.onState((connection) => {
      this.#set({ connection });
      if (connection === "open") this.#refreshStatusSoon();
    });
    this.client.onEvent((event) => {
      if (event.type === "message.created") performance.mark(`sotto:event:${event.messageId}`);
      this.#queue = this.#queue.then(() => this.#apply(event)).catch((error) => console.warn(error));
    });
    await this.client.subscribe();
    const [account, status, list] = await Promise.all([
      this.client.call("account.get"),
      this.client.call("status"),
      this.client.call("conversations.list", { includeLeft: true }),
    ]);
    this.#set({ account, status, conversations: sortConversations(list.conversations) });
  }

  async openThread(conversationId: string): Promise<void> {
    if (this.#state.threads.has(conversationId)) return;
    const page = await this.client.call("messages.list", { conversationId, limit: PAGE });
    this.#setThread(conversationId, merge(undefined, page.messages, page.before));
  }

  async loadOlder(conversationId: string): Promise<boolean> {
    const thread = this.#state.threads.get(conversationId);
    if (!thread || thread.before === null) return false;
    const page = await this.client.call("messages.list", {
      conversationId,
      before: thread.before,
      limit: OLDER_PAGE,
    });
    const current = this.#state.threads.get(conversationId) ?? thread;
    this.#setThread(conversationId, merge(current, page.messages, page.before, true));
    return true;
  }

  async loadContacts(): Promise<void> {
    const { contacts } = await this.client.call("contacts.list");
    this.#set({ contacts });
  }

  async loadDevices(): Promise<void> {
    const { devices } = await this.client.call("devices.list");
    this.#set({ devices });
  }

  /** After a call that changed a conversation (create, members), show its answer at once. */
  upsertConversation(conversation: Conversation): void {
    const others = this.#state.conversations.filter((c) => c.id !== conversation.id);
    this.#set({ conversations: sortConversations([...others, conversation]) });
  }

  /** After a call that changed a message, show its answer at once (its event re-queries it again). */
  upsertMessage(message: Message): void {
    const thread = this.#state.threads.get(message.conversationId);
    if (thread) this.#setThread(message.conversationId, merge(thread, [message], thread.before));
  }

  updateContact(contact: Contact): void {
    const contacts = (this.#state.contacts ?? []).map((c) => (c.actorId === contact.actorId ? contact : c));
    const keyChanged = new Set(this.#state.keyChanged);
    if (contact.verified) keyChanged.delete(contact.actorId);
    this.#set({ contacts, keyChanged });
  }

  async #apply(event: ApiEvent): Promise<void> {
    switch (event.type) {
      case "message.created":
      case "message.updated":
      case "message.deleted":
      case "reactions.changed":
      case "receipt":
      case "outbox.state":
        await this.#refreshMessage(event.conversationId, event.messageId);
        if (event.type === "message.created") await this.#refreshConversation(event.conversationId);
        if (event.type === "outbox.state") this.#refreshStatusSoon();
        return;
      case "conversation.created":
      case "conversation.updated":
      case "conversation.members_changed":
      case "conversation.security_alert":
      case "conversation.out_of_step":
        await this.#refreshConversation(event.conversationId);
        return;
      case "contact.key_changed": {
        const keyChanged = new Set(this.#state.keyChanged).add(event.actorId);
        this.#set({ keyChanged });
        if (this.#state.contacts) await this.loadContacts();
        return;
      }
      case "sync.state":
        if (this.#state.status) this.#set({ status: { ...this.#state.status, sync: event.sync } });
        this.#refreshStatusSoon();
        return;
      case "devices.changed":
        // A device asks to be linked, was linked or removed: the Devices screen shows it without a reload.
        if (this.#state.devices) await this.loadDevices();
        return;
      case "gap":
        await this.#reloadAll();
        return;
      default:
        // A new event type of the API fails the build here until the page handles it.
        event satisfies never;
    }
  }

  async #refreshMessage(conversationId: string, messageId: string): Promise<void> {
    const thread = this.#state.threads.get(conversationId);
    if (!thread) return;
    const message = await this.client.call("messages.get", { conversationId, messageId });
    const current = this.#state.threads.get(conversationId) ?? thread;
    this.#setThread(conversationId, merge(current, [message], current.before));
  }

  async #refreshConversation(conversationId: string): Promise<void> {
    this.upsertConversation(await this.client.call("conversations.get", { conversationId }));
  }

  async #reloadAll(): Promise<void> {
    const list = await this.client.call("conversations.list", { includeLeft: true });
    this.#set({ conversations: sortConversations(list.conversations), threads: new Map() });
  }

  /** Status (outbox backlog) is re-read at most every half second, however many events ask. */
  #refreshStatusSoon(): void {
    if (this.#statusTimer !== undefined) return;
    this.#statusTimer = setTimeout(() => {
      this.#statusTimer = undefined;
      this.client.call("status").then(
        (status) => this.#set({ status }),
        () => {},
      );
    }, 500);
  }

  #setThread(conversationId: string, thread: Thread): void {
    const threads = new Map(this.#state.threads).set(conversationId, thread);
    this.#set({ threads });
  }

  #set(change: Partial<ModelState>): void {
    this.#state = { ...this.#state, ...change };
    for (const listener of this.#listeners) listener();
  }
}

/** Most recent activity first, as the daemon lists them. */
function sortConversations(conversations: readonly Conversation[]): Conversation[] {
  return [...conversations].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
}

/** `thread` with `messages` added or replaced; new ids go in order of `published` (then id). */
export function merge(
  thread: Thread | undefined,
  messages: readonly Message[],
  before: string | null,
  older = false,
): Thread {
  const byId = new Map(thread?.byId);
  const added: Message[] = [];
  for (const message of messages) {
    if (!byId.has(message.id)) added.push(message);
    byId.set(message.id, message);
  }
  let ids = thread?.ids ?? [];
  if (added.length > 0) {
    const sorted = added.sort(byPublished).map((m) => m.id);
    const last = ids.length > 0 ? byId.get(ids[ids.length - 1] as string) : undefined;
    const first = ids.length > 0 ? byId.get(ids[0] as string) : undefined;
    const fresh = added;
    if (older && first && fresh.every((m) => byPublished(m, first) < 0)) ids = [...sorted, ...ids];
    else if (!last || fresh.every((m) => byPublished(m, last) > 0)) ids = [...ids, ...sorted];
    else ids = [...byId.values()].sort(byPublished).map((m) => m.id);
  }
  return { ids, byId, before: thread && !older ? thread.before : before };
}

function byPublished(a: Message, b: Message): number {
  return a.published.localeCompare(b.published) || a.id.localeCompare(b.id);
}
