// Who may reach the API: only this machine. The bind address must be a loopback literal; every handshake must
// name a loopback host with our port (so a DNS-rebinding page, whose Host is its own name, is refused) and, when
// a browser sends an Origin, that origin must be allowed explicitly.
import { isIP } from "node:net";
import { ApiServerError } from "./errors.js";

export function isLoopbackAddress(host: string): boolean {
  const version = isIP(host);
  if (version === 4) return host.startsWith("127.");
  if (version === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

/** Throws `non_loopback_bind` unless every address is a loopback literal (names such as "localhost" are refused too). */
export function assertLoopbackBind(hosts: readonly string[]): void {
  for (const host of hosts) {
    if (!isLoopbackAddress(host)) {
      throw new ApiServerError(
        "non_loopback_bind",
        `Refusing to serve the API on ${JSON.stringify(host)}: only loopback addresses (127.0.0.1, ::1) are allowed`,
      );
    }
  }
}

/** The `Host` header values a legitimate local client sends to our port (the bound addresses and `localhost`). */
export function allowedHosts(port: number, bound: readonly string[] = []): ReadonlySet<string> {
  const literal = (host: string) => (host.includes(":") ? `[${host}]` : host);
  return new Set(["127.0.0.1", "::1", "localhost", ...bound].map((host) => `${literal(host)}:${port}`));
}

export function isAllowedHost(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** No Origin = not a browser (CLI, scripts): allowed. A browser's Origin must be on the list, exactly. */
export function isAllowedOrigin(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  return origin === undefined || allowed.has(origin);
}
