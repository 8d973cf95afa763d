// `npm run bench -- <name>` runs tools/bench/src/<name>.ts (compiled to dist/<name>.js).
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".js") && !["run.js", "index.js", "report.js"].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

// pnpm passes the `--` of `npm run bench -- <name>` through to the script: skip it.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
const name = argv[0];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(", ") || "(none yet)"}`);
  process.exit(2);
}
const bench: { main: (args: string[]) => Promise<void> } = await import(
  pathToFileURL(`${here}/${name}.js`).href
);
await bench.main(argv.slice(1));
