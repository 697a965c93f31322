// The login form: posts {username, password} to the API, which sets the session cookie.
import { callApi } from "./api.js";

function safeReturn(target) {
  return target && target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/\\")
    ? target
    : "/applications";
}

export function startLogin(root) {
  const form = root.getElementById("login-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = root.getElementById("login-error");
    error.textContent = "";
    const data = new FormData(form);
    try {
      await callApi("POST", "/api/v1/session", {
        username: data.get("username"),
        password: data.get("password"),
      });
      window.location.assign(safeReturn(form.dataset.return));
    } catch (err) {
      error.textContent = err.message;
    }
  });
}
