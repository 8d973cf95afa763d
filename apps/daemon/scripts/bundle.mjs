// Bundles the two programs, sottod and sotto, from tsc's dist/ into dist/bin/ with esbuild: one file of JS per
// program starts faster and idles smaller than ~540 ESM modules. The shebang runs them with PROGRAM_ENV and
// NODE_FLAGS.
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { SHEBANG } from "../dist/programs.js";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const outdir = join(dist, "bin");
const programs = ["sottod", "sotto"];

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(programs.map((p) => [p, join(dist, `${p}.js`)])),
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
    js: `${SHEBANG}\nimport{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);`,
  },
});
// Executable, as package managers make `bin` entries: `dist/bin/sottod.js run ...` works from a shell.
for (const p of programs) chmodSync(join(outdir, `${p}.js`), 0o755);
