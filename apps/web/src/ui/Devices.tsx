// This account's devices (MLS leaves) and their fingerprints.
import type { Device } from "@sotto/api";
import { useEffect } from "preact/hooks";
import { LinkDevices } from "./LinkDevices.js";
import type { Model } from "./model.js";
import { ErrorLine, useErrors } from "./useErrors.js";

export function Devices({ model, devices }: { model: Model; devices: readonly Device[] | undefined }) {
  const { error, run } = useErrors();
  useEffect(() => {
    void run("Loading devices", () => model.loadDevices());
  }, []);
  return (
    <section class="page" aria-label="Devices">
      <h2>Your devices</h2>
      <p>Others compare these fingerprints with what their app shows for you.</p>
      <ErrorLine error={error} />
      <ul class="cards">
        {devices?.map((d) => (
          <li key={d.id} class="card">
            <h3>
              {d.name ?? "device"} {d.current ? <span class="ok">this daemon</span> : null}
            </h3>
            <code class="fingerprint">{d.fingerprint}</code>
            <p class="meta">since {new Date(d.firstSeen).toLocaleString()}</p>
          </li>
        ))}
      </ul>
      <LinkDevices model={model} devices={devices} />
    </section>
  );
}
