// Writes the generated documents: `pnpm --filter @sotto/api generate` after changing a schema.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { apiMarkdown } from "./docs.js";
import { jsonSchemaBundle, openRpcDocument } from "./openrpc.js";

/** Every generated file, by path relative to the package directory. */
export function generatedFiles(): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    "openrpc.generated.json": json(openRpcDocument()),
    "schema.generated.json": json(jsonSchemaBundle()),
    "../../docs/api.md": apiMarkdown(minimalFrontend()),
  };
}

/** The worked example of docs/api.md, without its first line (a comment saying where it is used). */
function minimalFrontend(): string {
  return readFileSync(join(packageDir, "examples/minimal-frontend.ts"), "utf8").replace(/^\/\/.*\n/, "");
}

/** The package directory (this file is src/generate.ts or dist/generate.js). */
export const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [path, content] of Object.entries(generatedFiles())) {
    writeFileSync(join(packageDir, path), content);
    console.log(`wrote ${path}`);
  }
}
