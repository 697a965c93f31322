// Buttons and forms that act through the API: [data-open-dialog] opens a <dialog>;
// forms with data-api-method/data-api-path send their fields as the API's JSON body.
import { callApi, toast } from "./api.js";

export function startActions(root) {
  root.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) dialog.showModal();
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog")?.close();
  });
  root.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-api-method]");
    if (!form) return;
    event.preventDefault();
    const body = form.dataset.apiBody ? JSON.parse(form.dataset.apiBody) : undefined;
    try {
      await callApi(form.dataset.apiMethod, form.dataset.apiPath, body);
      form.closest("dialog")?.close();
      toast(form.dataset.done || "Done");
    } catch (err) {
      toast(err.message, true);
    }
  });
}
