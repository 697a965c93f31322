// Forms whose fields are the API's JSON body: form[data-json-method][data-json-path]. Each named
// field with a value becomes a key (a checkbox a boolean); on success the page is loaded again
// to show the result, on failure the API's message shows in the form's [data-form-error].
import { callApi, toast } from "./api.js";

function bodyOf(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === "checkbox") {
      if (field.checked) body[field.name] = true;
    } else if (field.value.trim() !== "") {
      body[field.name] = field.type === "password" ? field.value : field.value.trim();
    }
  }
  return body;
}

export function startApiForms(root) {
  root.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-json-method][data-json-path]");
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector("[data-form-error]");
    const button = form.querySelector("button[type=submit]");
    if (error) error.textContent = "";
    if (button) button.disabled = true;
    try {
      await callApi(form.dataset.jsonMethod, form.dataset.jsonPath, bodyOf(form));
      toast(form.dataset.done || "Done");
      window.location.reload();
    } catch (err) {
      if (error) error.textContent = err.message;
      else toast(err.message, true);
      if (button) button.disabled = false;
    }
  });
}
