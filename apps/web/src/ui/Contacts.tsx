// Contacts and their devices' fingerprints, in the same groups as `sotto devices` shows them on the other side,
// to compare side by side or read aloud; verify once they match.
import type { Contact } from "@sotto/api";
import { useEffect } from "preact/hooks";
import { DeviceTrust } from "./DeviceTrust.js";
import type { Model } from "./model.js";
import { ErrorLine, useErrors } from "./useErrors.js";

export function Contacts({
  model,
  contacts,
  keyChanged,
}: {
  model: Model;
  contacts: readonly Contact[] | undefined;
  keyChanged: ReadonlySet<string>;
}) {
  const { error, run } = useErrors();
  useEffect(() => {
    void run("Loading contacts", () => model.loadContacts());
  }, []);
  return (
    <section class="page" aria-label="Contacts">
      <h2>Contacts</h2>
      <ErrorLine error={error} />
      {contacts === undefined ? <p role="status">Loading…</p> : null}
      {contacts?.length === 0 ? (
        <p class="empty">No contacts yet: they appear once you share a conversation.</p>
      ) : null}
      <ul class="cards">
        {contacts?.map((contact) => {
          const name = contact.displayName ?? contact.handle ?? contact.actorId;
          const changed = keyChanged.has(contact.actorId) && !contact.verified;
          return (
            <li key={contact.actorId} class="card" aria-label={name}>
              <h3>
                {name}{" "}
                <span class={contact.verified ? "ok" : "meta"}>
                  {contact.verified ? "Verified" : "Not verified"}
                </span>
              </h3>
              {changed ? (
                <p class="banner warning" role="alert">
                  {name}'s devices changed
                  {contact.keyChangedAt ? ` (${new Date(contact.keyChangedAt).toLocaleString()})` : ""}.
                  Compare the fingerprints again before you trust them.
                </p>
              ) : null}
              <ul>
                {contact.devices.map((d) => (
                  <li key={d.id}>
                    {d.name ?? "device"}: <code class="fingerprint">{d.fingerprint}</code>
                    {d.verified ? " ✓" : ""}
                    <DeviceTrust contact={contact} device={d} />
                    {d.authentication === "contradicted" ? (
                      <strong class="warning">
                        {" "}
                        · not a key {name}'s account publishes: someone else may hold this device
                      </strong>
                    ) : d.authentication === "uncheckable" ? (
                      <span class="meta"> · could not be checked: {name}'s account publishes no keys</span>
                    ) : null}
                  </li>
                ))}
              </ul>
              {contact.verified ? (
                <button
                  type="button"
                  onClick={() =>
                    void run("Unverifying", async () =>
                      model.updateContact(
                        await model.client.call("contacts.unverify", { actor: contact.actorId }),
                      ),
                    )
                  }
                >
                  Unverify {name}
                </button>
              ) : (
                <button
                  type="button"
                  onClick={() =>
                    void run("Verifying", async () =>
                      model.updateContact(
                        await model.client.call("contacts.verify", {
                          actor: contact.actorId,
                          fingerprints: contact.devices.map((d) => d.fingerprint),
                        }),
                      ),
                    )
                  }
                >
                  Fingerprints match: verify {name}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
