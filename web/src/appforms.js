// Request bodies built from the application page's dialogs: sync, rollback and delete. Each
// builder returns {path, body} for callApi, or throws an Error whose message is shown as a toast.

function checked(form, name) {
  const field = form.elements.namedItem(name);
  return Boolean(field && field.checked);
}

function sync(form) {
  const data = new FormData(form);
  const body = {};
  const revision = String(data.get("revision") || "").trim();
  if (revision) body.revision = revision;
  if (checked(form, "prune")) body.prune = true;
  if (checked(form, "dryRun")) body.dryRun = true;
  if (checked(form, "force")) body.strategy = { hook: { force: true } };
  // Disabled boxes (options the app's own policy sets) are not in FormData: they apply anyway.
  const items = data.getAll("option").map(String);
  const propagation = String(data.get("propagation") || "foreground");
  if (propagation !== "foreground") items.push(`PrunePropagationPolicy=${propagation}`);
  if (items.length) body.syncOptions = { items };
  const boxes = [...form.querySelectorAll("input[name=resource]")];
  const chosen = boxes.filter((box) => box.checked);
  if (boxes.length && !chosen.length) throw new Error("Select at least one resource to sync.");
  // All selected is a full sync (hooks run, history is kept); a subset names its resources.
  if (chosen.length < boxes.length) body.resources = chosen.map((box) => JSON.parse(box.value));
  return { path: form.dataset.apiPath, body };
}

function rollback(form, submitter) {
  const id = Number(submitter && submitter.value);
  if (!Number.isInteger(id)) throw new Error("Choose the history entry to roll back to.");
  const body = { id, prune: checked(form, "prune"), dryRun: checked(form, "dryRun") };
  return { path: form.dataset.apiPath, body };
}

function remove(form) {
  const confirm = form.elements.namedItem("confirm");
  if (!confirm || confirm.value !== confirm.dataset.mustEqual) {
    throw new Error("Type the app's name to confirm the deletion.");
  }
  const cascade = String(new FormData(form).get("cascade") || "foreground");
  const query =
    cascade === "orphan" ? "cascade=false" : `cascade=true&propagationPolicy=${cascade}`;
  return { path: `${form.dataset.apiPath}&${query}`, body: undefined };
}

export const BUILDERS = { sync, rollback, delete: remove };

// The sync dialog's "All resources" box and the delete dialog's typed confirmation.
export function startFormHelpers(root) {
  root.addEventListener("change", (event) => {
    const all = event.target.closest("[data-select-all]");
    const form = event.target.closest("form");
    if (!form) return;
    const name = all ? all.dataset.selectAll : event.target.name;
    const master = form.querySelector(`[data-select-all="${name}"]`);
    if (!master) return;
    const boxes = [...form.querySelectorAll(`input[name="${name}"]`)];
    if (all) {
      boxes.forEach((box) => (box.checked = all.checked));
      all.indeterminate = false;
      return;
    }
    const on = boxes.filter((box) => box.checked).length;
    master.checked = on === boxes.length;
    master.indeterminate = on > 0 && on < boxes.length;
  });
  root.addEventListener("input", (event) => {
    const field = event.target.closest("[data-must-equal]");
    if (!field) return;
    const button = field.form && field.form.querySelector("[data-needs-confirm]");
    if (button) button.disabled = field.value !== field.dataset.mustEqual;
  });
}
