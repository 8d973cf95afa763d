// Bundles the two programs, sottod and sotto, from tsc's dist/ into dist/bin/ with esbuild: one file of JS per
// program loads several times faster and smaller than ~540 ESM modules. The shebang runs them with NODE_FLAGS.
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { NODE_FLAGS } from "../dist/programs.js";

const dist = new URL("../dist/", import.meta.url);
const outdir = new URL("bin/", dist).pathname;
rmSync(outdir, { recursive: true, force: true });

const programs = ["sottod", "sotto"];
await build({
  entryPoints: Object.fromEntries(programs.map((p) => [p, new URL(`${p}.js`, dist).pathname])),
  outdir,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
  banner: {
    // The bundled CommonJS dependencies (ws) call require(), which ESM lacks.
    js: `#!/usr/bin/env -S node ${NODE_FLAGS.join(" ")}\nimport{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);`,
  },
});
// Runnable as `dist/bin/sottod ...` too, as package managers make bins.
for (const p of programs) chmodSync(new URL(`${p}.js`, `file://${outdir}`), 0o755);
