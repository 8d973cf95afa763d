// The page once logged in: the conversation list and navigation on the left, the chosen screen on the right,
// the status bar below.
import { useEffect, useState } from "preact/hooks";
import { Contacts } from "./Contacts.js";
import { ConversationList } from "./ConversationList.js";
import { ConversationView } from "./ConversationView.js";
import { Devices } from "./Devices.js";
import type { Model, ModelState } from "./model.js";
import { NewConversation } from "./NewConversation.js";
import { StatusBar } from "./StatusBar.js";

type Screen =
  | { readonly kind: "home" }
  | { readonly kind: "conversation"; readonly id: string }
  | { readonly kind: "new" }
  | { readonly kind: "contacts" }
  | { readonly kind: "devices" };

export function App({ model }: { model: Model }) {
  const [state, setState] = useState<ModelState>(model.state);
  const [screen, setScreen] = useState<Screen>({ kind: "home" });
  useEffect(() => model.onChange(() => setState(model.state)), []);
  const self = state.account?.actorId;
  const open =
    screen.kind === "conversation" ? state.conversations.find((c) => c.id === screen.id) : undefined;
  const unread = state.conversations.reduce((sum, c) => sum + c.unread, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Sotto` : "Sotto";
  }, [unread]);
  return (
    <div class="app">
      <nav class="sidebar" aria-label="Conversations">
        <header>
          <h1>Sotto</h1>
          <p class="meta">{state.account?.handle ?? ""}</p>
        </header>
        <div class="tools">
          <button type="button" onClick={() => setScreen({ kind: "new" })}>
            New conversation
          </button>
          <button type="button" onClick={() => setScreen({ kind: "contacts" })}>
            Contacts
          </button>
          <button type="button" onClick={() => setScreen({ kind: "devices" })}>
            Devices
          </button>
        </div>
        <ConversationList
          conversations={state.conversations}
          selected={screen.kind === "conversation" ? screen.id : undefined}
          self={self}
          onSelect={(id) => setScreen({ kind: "conversation", id })}
        />
      </nav>
      <main class="main">
        {screen.kind === "new" ? (
          <NewConversation model={model} onCreated={(c) => setScreen({ kind: "conversation", id: c.id })} />
        ) : screen.kind === "contacts" ? (
          <Contacts model={model} contacts={state.contacts} keyChanged={state.keyChanged} />
        ) : screen.kind === "devices" ? (
          <Devices model={model} devices={state.devices} />
        ) : open && self ? (
          <ConversationView
            key={open.id}
            model={model}
            conversation={open}
            thread={state.threads.get(open.id)}
            self={self}
            keyChanged={open.members.some((m) => state.keyChanged.has(m.actorId))}
            onVerify={() => setScreen({ kind: "contacts" })}
            onLeft={() => setScreen({ kind: "conversation", id: open.id })}
          />
        ) : (
          <section class="page" aria-label="Welcome">
            <h2>Welcome</h2>
            <p>
              Pick a conversation, or start a new one. Messages are end-to-end encrypted by your own sottod.
            </p>
          </section>
        )}
      </main>
      <StatusBar connection={state.connection} status={state.status} />
    </div>
  );
}
