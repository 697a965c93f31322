// Bundles the UI's browser modules (web/src) and their npm dependencies into one ES module the
// server serves at /assets/dist/ui.js. Run by `make ui`; the output is never committed.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [path.join(here, "src", "main.js")],
  outfile: path.join(here, "..", "src", "tether", "ui", "static", "dist", "ui.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
});
