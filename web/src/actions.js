// Buttons and forms that act through the API: [data-open-dialog] opens a <dialog> (and tells it
// "tether:open", so a dialog can load its content fresh); forms with data-api-method and
// data-api-path send a static data-api-body, or the body a data-build builder makes from their
// fields. Afterwards: a toast (data-done), and data-then names the page to go to.
import { callApi, toast } from "./api.js";
import { BUILDERS, startFormHelpers } from "./appforms.js";

function request(form, submitter) {
  const build = form.dataset.build;
  if (build) {
    const builder = BUILDERS[build];
    if (!builder) throw new Error(`unknown form ${build}`);
    return builder(form, submitter);
  }
  const body = form.dataset.apiBody ? JSON.parse(form.dataset.apiBody) : undefined;
  return { path: form.dataset.apiPath, body };
}

async function submit(form, submitter) {
  let call;
  try {
    call = request(form, submitter);
  } catch (err) {
    toast(err.message, true);
    return;
  }
  const busy = submitter || form.querySelector("[type=submit]");
  if (busy) busy.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    await callApi(form.dataset.apiMethod, call.path, call.body);
    form.closest("dialog")?.close();
    toast(form.dataset.done || "Done");
    if (form.dataset.then) window.location.assign(form.dataset.then);
  } catch (err) {
    toast(err.message, true);
  } finally {
    form.removeAttribute("aria-busy");
    if (busy) busy.disabled = false;
  }
}

// A live region's reload replaces the button that had focus and the wave lists a user opened:
// give focus to the successor and open the same lists again. Kept per swapped region, since
// several regions (header, tree, panel) may reload at the same moment.
function keepState(root) {
  const kept = new Map(); // region id -> {focused, opened}
  root.addEventListener("htmx:beforeSwap", (event) => {
    const region = event.detail.target;
    if (!region || !region.id) return;
    const active = document.activeElement;
    const inside = active && region.contains(active);
    kept.set(region.id, {
      focused: inside && active.dataset ? active.dataset.action || null : null,
      opened: [...region.querySelectorAll("details[data-keep][open]")].map((d) => d.dataset.keep),
    });
  });
  root.addEventListener("htmx:afterSettle", (event) => {
    const region = event.detail.target;
    const state = region && region.id ? kept.get(region.id) : undefined;
    if (!state) return;
    kept.delete(region.id);
    const current = document.getElementById(region.id) || region;
    for (const key of state.opened) {
      const details = current.querySelector(`details[data-keep="${CSS.escape(key)}"]`);
      if (details) details.open = true;
    }
    if (!state.focused || document.activeElement !== document.body) return;
    const successor = current.querySelector(`[data-action="${CSS.escape(state.focused)}"]`);
    if (successor) successor.focus();
  });
}

export function startActions(root) {
  root.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) {
        dialog.showModal();
        dialog.dispatchEvent(new CustomEvent("tether:open"));
      }
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog")?.close();
  });
  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-api-method]");
    if (!form) return;
    event.preventDefault();
    submit(form, event.submitter);
  });
  startFormHelpers(root);
  keepState(root);
}
