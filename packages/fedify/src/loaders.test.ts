import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { MLS_CONTEXT } from "@sotto/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlsContextDocument } from "./context.js";
import { mlsLoaderFactories } from "./loaders.js";

describe("loader factories for a Fedify federation", () => {
  const server = createServer((_req, res) => {
    res
      .writeHead(200, { "content-type": "application/activity+json" })
      .end(JSON.stringify({ id: "x", type: "Note" }));
  });
  let origin: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("answers the MLS context from memory and fetches other documents on loopback when allowed", async () => {
    const { documentLoaderFactory, contextLoaderFactory } = mlsLoaderFactories({ allowPrivateAddress: true });
    const context = await contextLoaderFactory()(MLS_CONTEXT);
    expect(context.document).toBe(mlsContextDocument);
    const fetched = await documentLoaderFactory()(`${origin}/note`);
    expect(fetched.document).toEqual({ id: "x", type: "Note" });
  });

  it("refuses private addresses by default", async () => {
    const { documentLoaderFactory } = mlsLoaderFactories();
    await expect(documentLoaderFactory()(`${origin}/note`)).rejects.toThrow();
  });
});
