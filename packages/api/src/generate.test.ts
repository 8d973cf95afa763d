import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedFiles, packageDir } from "./generate.js";
import { METHOD_NAMES } from "./methods.js";
import { openRpcDocument } from "./openrpc.js";

describe("generated documents", () => {
  it("are up to date with the schemas (run `pnpm --filter @sotto/api generate` if not)", () => {
    for (const [path, content] of Object.entries(generatedFiles())) {
      expect(readFileSync(join(packageDir, path), "utf8"), path).toBe(content);
    }
  });

  it("describe every method, with by-name params, its result and its errors", () => {
    const doc = openRpcDocument() as {
      methods: {
        name: string;
        params: { name: string; required: boolean }[];
        result: unknown;
        errors: unknown[];
      }[];
      components: { schemas: Record<string, unknown>; errors: Record<string, { code: number }> };
    };
    expect(doc.methods.map((m) => m.name)).toEqual(METHOD_NAMES);
    const list = doc.methods.find((m) => m.name === "messages.list");
    expect(list?.params).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "conversationId", required: true }),
        expect.objectContaining({ name: "limit", required: false }),
      ]),
    );
    expect(list?.result).toEqual({
      name: "result",
      schema: { $ref: "#/components/schemas/MessagesListResult" },
    });
    expect(doc.components.errors.conversation_not_found?.code).toBe(-32010);
    // Every $ref resolves.
    for (const [, ref] of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas, ref).toHaveProperty(ref as string);
    }
  });
});
