// The applications page's status counts: a count is a link to its status filter; with the
// filter form on the page, following it ticks that status alone in the form and lets the form
// ask for the list, so the form, the list and the address bar agree.

export function startAppFilters(root) {
  const form = root.getElementById?.("app-filters");
  if (!form) return;
  root.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-filter][data-value]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    const boxes = form.querySelectorAll(`input[type=checkbox][name="${link.dataset.filter}"]`);
    if (!boxes.length) return;
    event.preventDefault();
    for (const box of boxes) box.checked = box.value === link.dataset.value;
    form.dispatchEvent(new Event("change", { bubbles: true }));
  });
}
