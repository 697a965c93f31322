// The login form: posts {username, password} to the API, which sets the session cookie, then
// goes back to the page that sent the user here (a path on this server, never another site).
import { callApi } from "./api.js";

// The server's safe_return: a path, not //host, without characters a browser drops or reads as
// a slash (tabs, newlines, backslashes) or any other control character or space.
function safeReturn(target) {
  const unsafe = /[\u0000-\u0020\u007f\\]/;
  return target && target.startsWith("/") && !target.startsWith("//") && !unsafe.test(target)
    ? target
    : "/applications";
}

export function startLogin(root) {
  const form = root.getElementById("login-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = root.getElementById("login-error");
    const button = form.querySelector("button[type=submit]");
    error.textContent = "";
    button.disabled = true;
    const data = new FormData(form);
    try {
      await callApi("POST", "/api/v1/session", {
        username: data.get("username"),
        password: data.get("password"),
      });
      window.location.assign(safeReturn(form.dataset.return));
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
      form.querySelector("#password").select();
    }
  });
}
