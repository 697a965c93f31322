// The UI's entry module: htmx for fragments, then one module per behaviour.
import htmx from "htmx.org";
import { startLogin } from "./login.js";
import { startLive } from "./live.js";
import { startActions } from "./actions.js";

window.htmx = htmx;

function start() {
  startLogin(document);
  startLive(document);
  startActions(document);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
