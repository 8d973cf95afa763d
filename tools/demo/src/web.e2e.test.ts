// `npm start -- --demo` (tools/demo's orchestrator, what `npm start` runs after building) and the web UI link its
// banner prints, opened in Debian's Chromium: alice, in the browser, chats with the demo's second account, bob,
// whose daemon is driven through its own API.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SottoClient } from "@sotto/api";
import { readEndpoint, readToken, tokenPath } from "@sotto/daemon/api";
import { axeViolations, type LaunchedBrowser, launchChromium, WAIT_MS } from "@sotto/web/testing";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const startJs = join(root, "tools", "demo", "dist", "start.js");

describe("npm start -- --demo, in the browser", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sotto-web-demo-"));
  let child: ChildProcess | undefined;
  let chromium: LaunchedBrowser | undefined;
  let bobApi: SottoClient | undefined;

  afterAll(async () => {
    bobApi?.close();
    await chromium?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGINT");
      const timer = setTimeout(() => child?.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the web UI link the banner prints logs alice in, and she chats with bob, the demo's second account", async () => {
    const lines: string[] = [];
    child = spawn(process.execPath, [startJs, "--demo", "--data-dir", dataDir], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (l) => lines.push(l));
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (l) => lines.push(l));
    const end = Date.now() + 240_000;
    while (!lines.includes("More: docs/quickstart.md")) {
      if (child.exitCode !== null || Date.now() > end)
        throw new Error(`npm start -- --demo did not come up:\n${lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const links = lines.flatMap((l) => /^\s+web UI\s+(http:\/\/\S+#code=\S+)/.exec(l)?.[1] ?? []);
    expect(links, lines.join("\n")).toHaveLength(2); // alice's, then bob's

    chromium = await launchChromium();
    const page = await (
      await chromium.browser.newContext({ viewport: { width: 1200, height: 800 } })
    ).newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(links[0] as string);
    await page.getByRole("navigation", { name: "Conversations" }).waitFor();

    const bobDir = join(dataDir, "bob");
    const endpoint = await readEndpoint(bobDir);
    bobApi = await SottoClient.connect({
      url: endpoint?.url ?? "",
      token: await readToken(tokenPath(bobDir)),
    });
    const [conversation] = (await bobApi.call("conversations.list")).conversations;
    const conversationId = conversation?.id as string;
    await page.locator(`[data-conversation="${conversationId}"]`).click();
    await page.getByText("Hello Bob! This is Alice").first().waitFor();

    await page.getByRole("textbox", { name: "Message" }).fill("Hi Bob, from the browser");
    await page.keyboard.press("Enter");
    const api = bobApi;
    for (const deadline = Date.now() + WAIT_MS; ; ) {
      const { messages } = await api.call("messages.list", { conversationId });
      if (messages.some((m) => m.content.includes("Hi Bob, from the browser"))) break;
      if (Date.now() > deadline) throw new Error("bob never received alice's message from the browser");
      await new Promise((r) => setTimeout(r, 200));
    }
    await api.call("messages.send", { conversationId, text: "Hi Alice, bob here" });
    await page.getByText("Hi Alice, bob here").waitFor();
    expect(await axeViolations(page)).toEqual([]);
  });
});
