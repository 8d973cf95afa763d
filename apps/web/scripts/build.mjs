// Builds the UI into dist/www/ (what sottod serves): one ES module bundle (esbuild, minified, no source maps) and the static files.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../", import.meta.url));
const dist = `${root}dist/www`;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: { app: `${root}src/ui/main.tsx` },
  outdir: dist,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
  // SottoClient imports `ws` only where no global WebSocket exists: never in a browser.
  external: ["ws"],
  plugins: [zodSlim()],
});
/**
 * @sotto/api's schemas use zod's classic API, whose namespace drags in parts a browser never calls: 40 message
 * locales (the default, English, is kept), JSON Schema import, and the schema compiler. They are replaced by
 * stubs here, which halves the bundle; calling one of them throws.
 */
function zodSlim() {
  const unused = () => 'throw new Error("not in the Sotto Web bundle")';
  const stubs = {
    "locales/index.js": "export {};",
    "classic/from-json-schema.js": `export function fromJSONSchema() { ${unused()} }`,
    "core/compile.js": [
      'export const INVALID = Symbol.for("zod.compile.invalid");',
      "export class ZodCompileAsyncError extends Error {}",
      "export class ZodCompileUnsupportedError extends Error {}",
      ...["compile", "withParser", "compileFn"].map((f) => `export function ${f}() { ${unused()} }`),
    ].join("\n"),
  };
  return {
    name: "zod-slim",
    setup(build) {
      build.onLoad(
        {
          filter:
            /[\\/]zod[\\/]v4[\\/](locales[\\/]index|classic[\\/]from-json-schema|core[\\/]compile)\.js$/,
        },
        (args) => {
          const key = Object.keys(stubs).find((k) => args.path.replaceAll("\\", "/").endsWith(`/v4/${k}`));
          return { contents: stubs[key], loader: "js" };
        },
      );
    },
  };
}

cpSync(`${root}static`, dist, { recursive: true });
