// Calls to the API from the browser: JSON in and out, as the API's CSRF rule requires.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function callApi(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.message) || response.statusText || String(response.status);
    throw new ApiError(response.status, message);
  }
  return data;
}

export function toast(message, isError = false) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = document.createElement("div");
  item.className = isError ? "toast error" : "toast";
  item.textContent = message;
  box.appendChild(item);
  setTimeout(() => item.remove(), isError ? 10000 : 4000);
}
