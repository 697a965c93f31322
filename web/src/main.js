// The UI's entry module: htmx for fragments, then one module per behaviour. Modules that draw
// into fragments run again after htmx swaps new content in.
import htmx from "htmx.org";
import { startLogin } from "./login.js";
import { startLive } from "./live.js";
import { startAppFilters } from "./appfilters.js";
import { startApiForms } from "./apiforms.js";
import { startActions } from "./actions.js";
import { startTree } from "./tree.js";
import { startDiff } from "./diff.js";

window.htmx = htmx;

function start() {
  startLogin(document);
  startLive(document);
  startAppFilters(document);
  startApiForms(document);
  startActions(document);
  startTree(document);
  startDiff(document);
  htmx.onLoad((fragment) => {
    if (fragment === document.body) return;
    startTree(fragment);
    startDiff(fragment);
  });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
