// Linking and removing this account's devices (issue 18): a one-time code for the new device, its request
// with the comparison string both devices show, approve, and remove a lost device.
import type { Device } from "@sotto/api";
import { useState } from "preact/hooks";
import type { Model } from "./model.js";
import { ErrorLine, useErrors } from "./useErrors.js";

export function LinkDevices({ model, devices }: { model: Model; devices: readonly Device[] | undefined }) {
  const { error, run } = useErrors();
  const [code, setCode] = useState<{ code: string; expiresAt: string } | undefined>();
  // One approval or removal at a time: a second click while the first commits would act twice.
  const [busy, setBusy] = useState(false);
  const act = (what: string, method: "devices.approve" | "devices.remove", id: string) => {
    setBusy(true);
    void run(what, async () => {
      await model.client.call(method, { id });
      await model.loadDevices();
    }).finally(() => setBusy(false));
  };
  // Linked here (`link` set), or found in conversations without having been linked here (`link: null`).
  const others = devices?.filter((d) => !d.current && d.link !== undefined) ?? [];
  return (
    <section aria-label="Link devices">
      <ErrorLine error={error} />
      <button
        type="button"
        onClick={() =>
          void run("Making a link code", async () => setCode(await model.client.call("devices.link")))
        }
      >
        Link a new device
      </button>
      {code ? (
        <p role="status">
          On the new device run <code>sottod init --link {code.code}</code> (valid once, until{" "}
          {new Date(code.expiresAt).toLocaleTimeString()}). Approve it below only when both show the same
          comparison string.
        </p>
      ) : null}
      <ul class="cards">
        {others.map((d) => (
          <li key={d.id} class="card" aria-label={d.name ?? d.id}>
            <h3>
              {d.name ?? "device"} <span class="meta">{d.link?.state ?? "not linked from here"}</span>
            </h3>
            <code class="fingerprint">{d.fingerprint}</code>
            {d.link ? (
              <p>
                Comparison: <strong>{d.link.comparison}</strong>
              </p>
            ) : (
              <p class="warning" role="alert">
                This device is in your conversations but was not linked here. Remove it if you do not know it.
              </p>
            )}
            {d.link?.state === "requested" ? (
              <button type="button" disabled={busy} onClick={() => act("Approving", "devices.approve", d.id)}>
                Approve {d.name ?? "device"}
              </button>
            ) : null}
            {d.link === null || d.link?.state === "linked" ? (
              <button type="button" disabled={busy} onClick={() => act("Removing", "devices.remove", d.id)}>
                Remove {d.name ?? "device"}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
