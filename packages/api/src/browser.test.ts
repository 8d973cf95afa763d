// SottoClient must run in browsers: everything reachable from the package entry imports only zod, the tiny
// `@sotto/shared/errors` and `@sotto/shared/limits` modules (not the MLS engine) and, lazily when no global WebSocket exists, `ws`.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = dirname(fileURLToPath(import.meta.url));

function moduleGraph(entry: string): { files: Set<string>; packages: Set<string>; lazy: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const lazy = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(join(src, file), "utf8");
    for (const [, specifier] of code.matchAll(/^(?:import|export)[^;]*?from "([^"]+)"/gms)) {
      if (specifier?.startsWith("./")) visit(specifier.slice(2).replace(/\.js$/, ".ts"));
      else if (specifier) packages.add(specifier);
    }
    for (const [, specifier] of code.matchAll(/await import\("([^"]+)"\)/g))
      if (specifier) lazy.add(specifier);
  };
  visit(entry);
  return { files, packages, lazy };
}

describe("the package entry", () => {
  it("imports nothing a browser lacks", () => {
    const { files, packages, lazy } = moduleGraph("index.ts");
    expect(files).toContain("client.ts");
    expect([...packages].sort()).toEqual(["@sotto/shared/errors", "@sotto/shared/limits", "zod"]);
    expect([...lazy]).toEqual(["ws"]);
  });
});
