// `npm run bench -- <name>` runs tools/bench/src/<name>.ts (compiled to dist/<name>.js).
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".js") && !["run.js", "index.js", "report.js"].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(", ") || "(none yet)"}`);
  process.exit(2);
}
const bench: { main: (args: string[]) => Promise<void> } = await import(
  pathToFileURL(`${here}/${name}.js`).href
);
await bench.main(process.argv.slice(3));
