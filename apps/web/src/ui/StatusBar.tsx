// The status bar: the page's connection to sottod, the daemon's sync with its server, the outbox backlog.
import type { ConnectionState, Status } from "@sotto/api";

export function StatusBar({
  connection,
  status,
}: {
  connection: ConnectionState;
  status: Status | undefined;
}) {
  const parts: string[] = [];
  let level = "ok";
  if (connection !== "open") {
    level = "offline";
    parts.push(
      connection === "closed"
        ? "Disconnected from sottod: reload the page, or run `sotto web` for a new link."
        : "Offline: sottod is not reachable (stopped or restarting); reconnecting… If it does not come back, it may have moved to another port: run `sotto web` for a new link.",
    );
  } else if (status) {
    const { sync } = status;
    if (sync.state === "offline" || sync.state === "error") {
      level = "offline";
      parts.push(`Server ${sync.state}${sync.error ? `: ${sync.error}` : ""}; retrying`);
    } else {
      parts.push(sync.state === "syncing" ? "Syncing…" : "Connected");
    }
    if (status.outbox.queued > 0) parts.push(`${status.outbox.queued} waiting to send`);
    if (status.outbox.failed > 0) {
      level = "offline";
      parts.push(`${status.outbox.failed} failed to send`);
    }
  }
  return (
    <footer class={`status ${level}`} data-connection={connection}>
      <div role="status">{parts.join(" · ")}</div>
    </footer>
  );
}
