// Entry: log in (a one-time code from the URL fragment, or this tab's session), connect with SottoClient,
// load the model, render.
import { ApiError, SottoClient } from "@sotto/api";
import { render } from "preact";
import { App } from "./App.js";
import { apiUrl, forgetSession, storedSession, takeCode, tradeCode } from "./login.js";
import { Model } from "./model.js";

async function boot(root: HTMLElement): Promise<void> {
  performance.mark("sotto:boot");
  const url = apiUrl(location);
  const code = takeCode(location, history);
  let session = storedSession(sessionStorage);
  try {
    if (code !== undefined) session = await tradeCode(url, code, sessionStorage);
  } catch (error) {
    if (session === undefined) return loggedOut(root, (error as Error).message);
  }
  if (session === undefined) {
    return loggedOut(
      root,
      "To open Sotto here, run `sotto web` (or look at what `npm start` printed) and open its link.",
    );
  }
  performance.mark("sotto:session");
  let client: SottoClient;
  try {
    client = await SottoClient.connect({ url, token: session });
  } catch {
    forgetSession(sessionStorage);
    return loggedOut(
      root,
      "sottod refused this tab's session or is not running. Run `sotto web` for a new link.",
    );
  }
  performance.mark("sotto:connected");
  const model = new Model(client);
  try {
    await model.start();
  } catch (error) {
    const why = error instanceof ApiError ? error.message : String(error);
    return loggedOut(root, `sottod is not ready: ${why}. Try again in a moment.`);
  }
  performance.mark("sotto:loaded");
  render(<App model={model} />, root);
  performance.mark("sotto:interactive");
}

function loggedOut(root: HTMLElement, message: string): void {
  render(
    <main class="login">
      <h1>Sotto</h1>
      <p role="alert">{message}</p>
    </main>,
    root,
  );
}

void boot(document.getElementById("app") as HTMLElement);
