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

/**
 * Leaves out code the programs import but never run, which an idle sottod would otherwise hold in memory:
 * - the ASN.1/PKI libraries of `@fedify/vocab-runtime`: sottod uses only its URL checks and user agent, and
 *   esbuild keeps an unused CommonJS-style package unless told it has no side effects (pkijs alone is 333 KB);
 * - zod's translated error messages (264 KB): sottod sets no locale, and zod's default English one is
 *   imported by zod itself, not through this index.
 */
const PURE_PACKAGES = /^(pkijs|asn1js|bytestreamjs|pvtsutils|pvutils)$/;
const unused = {
  name: "sotto-unused",
  setup(b) {
    b.onResolve({ filter: PURE_PACKAGES }, async (args) => {
      if (args.pluginData === "resolved") return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: "resolved",
      });
      return { ...resolved, sideEffects: false };
    });
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  plugins: [unused],
  // sottod's decrypt-ahead worker thread runs from a file beside it (decryptAhead.ts finds it there).
  entryPoints: Object.fromEntries(
    [...programs, "decryptAhead.worker"].map((p) => [p, join(dist, `${p}.js`)]),
  ),
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
