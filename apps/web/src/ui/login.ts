// Login without the token: `sotto web` prints a URL whose fragment carries a one-time code (fragments never
// reach a server or a Referer). The page trades it over the WebSocket (`auth({ code })`) for a session
// credential, keeps that in sessionStorage (this tab only) and removes the code from the address bar.
import { methods, RpcResponse } from "@sotto/api";

const SESSION_KEY = "sotto.session";

/** The API of the daemon that served this page: same host and port. */
export function apiUrl(location: Location): string {
  return `ws://${location.host}/`;
}

/** The code in `#code=...`, removed from the address bar and history at once. */
export function takeCode(location: Location, history: History): string | undefined {
  const code = new URLSearchParams(location.hash.slice(1)).get("code") ?? undefined;
  if (location.hash !== "") history.replaceState(null, "", location.pathname + location.search);
  return code;
}

export function storedSession(storage: Storage): string | undefined {
  return storage.getItem(SESSION_KEY) ?? undefined;
}

export function forgetSession(storage: Storage): void {
  storage.removeItem(SESSION_KEY);
}

/** Trades a login code for a session credential and keeps it; rejects with a message to show. */
export function tradeCode(url: string, code: string, storage: Storage): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ["sotto.v1"]);
    const fail = (why: string) => {
      socket.close();
      reject(new Error(why));
    };
    socket.onopen = () =>
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "auth", params: { code } }));
    socket.onerror = () => fail("Cannot reach sottod. Is it running?");
    socket.onmessage = (event) => {
      let json: unknown;
      try {
        json = JSON.parse(String(event.data));
      } catch {
        json = undefined;
      }
      const response = RpcResponse.safeParse(json);
      if (!response.success || !("result" in response.data)) {
        fail("This login link was already used or has expired. Run `sotto web` for a new one.");
        return;
      }
      const result = methods.auth.result.safeParse(response.data.result);
      if (!result.success || result.data.session === undefined) {
        fail("sottod answered the login without a session.");
        return;
      }
      storage.setItem(SESSION_KEY, result.data.session);
      socket.close();
      resolve(result.data.session);
    };
  });
}
