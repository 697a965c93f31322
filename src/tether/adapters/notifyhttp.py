"""Delivers notifications over HTTP: webhooks, Slack, GitHub commit statuses.

URLs come from the operator's ``service.*`` settings; what templates render (a webhook's path,
bodies) may carry tenant text, so a request whose host differs from the configured one is
refused. Errors name the service and the HTTP status, never a header, body or secret.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx2
import jwt

from tether.core import redact
from tether.model.errors import DeliveryError
from tether.ports import Message

TIMEOUT_S = 10.0
"""One request; a receiver slower than this is treated as down (retried later)."""

GITHUB_API = "https://api.github.com"
SLACK_API = "https://slack.com/api/"
GITHUB_DESCRIPTION_MAX = 140
"""GitHub refuses a commit status description longer than this."""

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Statuses that say "later": the receiver is busy or down, not refusing the message."""

_REPO = re.compile(r"^(?:https?://[^/]+/|git@[^:]+:|ssh://[^/]+/)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
_WEBHOOK_METHODS = frozenset({"GET", "POST", "PUT", "PATCH"})


class HttpSender:
    """The ``ports.Sender`` for ``webhook``, ``slack`` and ``github`` services."""

    def __init__(self, *, timeout_s: float = TIMEOUT_S) -> None:
        self._timeout = httpx2.Timeout(timeout_s)
        self._clients: dict[bool, httpx2.AsyncClient] = {}
        self._app_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    async def send(self, message: Message) -> None:
        """One attempt to deliver ``message`` to its service."""
        try:
            match message.service_type:
                case "webhook":
                    await self._webhook(message)
                case "slack":
                    await self._slack(message)
                case "github":
                    await self._github(message)
                case other:
                    raise DeliveryError(f"service type {other!r} is not HTTP", retryable=False)
        except httpx2.HTTPError as err:
            # The exception's text can hold the URL with its query: name the kind only.
            raise DeliveryError(
                f"{message.service_name}: {type(err).__name__} (network)", retryable=True
            ) from None
        except DeliveryError as err:
            raise DeliveryError(
                redact.text(str(err), message.secrets), retryable=err.retryable
            ) from None

    async def aclose(self) -> None:
        """Close every connection pool."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def _client(self, settings: Mapping[str, Any]) -> httpx2.AsyncClient:
        insecure = bool(settings.get("insecureSkipVerify"))
        client = self._clients.get(insecure)
        if client is None:
            client = self._clients[insecure] = httpx2.AsyncClient(
                verify=not insecure, timeout=self._timeout, follow_redirects=False
            )
        return client

    async def _webhook(self, message: Message) -> None:
        settings = message.settings
        base = str(settings.get("url") or "")
        if not base:
            raise DeliveryError(f"{message.service_name}: service has no url", retryable=False)
        block = _block(message.content, "webhook", message.service_name)
        method = str(block.get("method") or "GET").upper()
        if method not in _WEBHOOK_METHODS:
            raise DeliveryError(f"{message.service_name}: method {method!r}", retryable=False)
        url = _joined(base, str(block.get("path") or ""), message.service_name)
        headers = {str(h.get("name")): str(h.get("value")) for h in settings.get("headers") or []}
        auth = None
        if isinstance(basic := settings.get("basicAuth"), Mapping):
            auth = httpx2.BasicAuth(str(basic.get("username", "")), str(basic.get("password", "")))
        # As Argo CD: without the template's block for this webhook, a GET carrying ``message``.
        body = str(block.get("body") or "") if block else str(message.content.get("message") or "")
        response = await self._client(settings).request(
            method, url, content=body.encode(), headers=headers, auth=auth
        )
        _check(response, message.service_name)

    async def _slack(self, message: Message) -> None:
        settings = message.settings
        block = message.content.get("slack") or {}
        block = block if isinstance(block, Mapping) else {}
        payload: dict[str, Any] = {"text": str(message.content.get("message") or "")}
        for field in ("attachments", "blocks"):
            if text := str(block.get(field) or "").strip():
                try:
                    payload[field] = json.loads(text)
                except ValueError:
                    raise DeliveryError(
                        f"{message.service_name}: slack.{field} is not JSON", retryable=False
                    ) from None
        if message.recipient:
            payload["channel"] = message.recipient
        if username := settings.get("username"):
            payload["username"] = str(username)
        if icon := str(settings.get("icon") or ""):
            payload["icon_url" if icon.startswith("http") else "icon_emoji"] = icon
        if url := str(settings.get("url") or ""):  # an incoming webhook
            response = await self._client(settings).post(url, json=payload)
            _check(response, message.service_name)
            return
        token = str(settings.get("token") or "")
        if not token:
            raise DeliveryError(f"{message.service_name}: needs url or token", retryable=False)
        api = str(settings.get("apiURL") or SLACK_API)
        response = await self._client(settings).post(
            _joined(api, "chat.postMessage", message.service_name),
            json=payload,
            headers={"Authorization": f"Bearer {token}"},
        )
        _check(response, message.service_name)
        answer = _json(response, message.service_name)
        if answer.get("ok") is not True:
            error = re.sub(r"[^\w-]", "", str(answer.get("error") or "unknown"))[:60]
            raise DeliveryError(f"{message.service_name}: Slack said {error}", retryable=False)

    async def _github(self, message: Message) -> None:
        settings = message.settings
        block = message.content.get("github") or {}
        block = block if isinstance(block, Mapping) else {}
        status = block.get("status")
        if not isinstance(status, Mapping):
            return  # the template has no commit status for this trigger
        match = _REPO.match(str(block.get("repoURLPath") or "").strip())
        revision = str(block.get("revisionPath") or "").strip()
        if match is None or not re.fullmatch(r"[0-9a-f]{7,64}", revision):
            raise DeliveryError(
                f"{message.service_name}: the app has no GitHub repository URL and commit",
                retryable=False,
            )
        base = str(settings.get("enterpriseBaseURL") or GITHUB_API).rstrip("/")
        token = await self._github_token(settings, base, message.service_name)
        url = _joined(base, f"/repos/{match[1]}/{match[2]}/statuses/{revision}", "github")
        body = {
            "state": str(status.get("state") or "pending"),
            "context": str(status.get("label") or "continuous-delivery"),
            "description": str(message.content.get("message") or "")[:GITHUB_DESCRIPTION_MAX],
        }
        if target := str(status.get("targetURL") or ""):
            body["target_url"] = target
        response = await self._client(settings).post(url, json=body, headers=_github_headers(token))
        if response.status_code == 422:
            return  # GitHub's cap of statuses per commit and context: nothing to retry
        _check(response, message.service_name)

    async def _github_token(self, settings: Mapping[str, Any], base: str, name: str) -> str:
        if token := str(settings.get("token") or ""):
            return token
        app_id = str(settings.get("appID") or "")
        installation = str(settings.get("installationID") or "")
        key = str(settings.get("privateKey") or "")
        if not (app_id and installation and key):
            raise DeliveryError(
                f"{name}: needs token, or appID, installationID and privateKey", retryable=False
            )
        cached = self._app_tokens.get((base, app_id, installation))
        if cached is not None and cached[1] > time.time():
            return cached[0]
        now = int(time.time())
        try:
            assertion = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": app_id}, key, "RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise DeliveryError(f"{name}: privateKey is not an RSA key", retryable=False) from None
        response = await self._client(settings).post(
            _joined(base, f"/app/installations/{installation}/access_tokens", name),
            headers=_github_headers(assertion),
        )
        _check(response, name)
        token = str(_json(response, name).get("token") or "")
        if not token:
            raise DeliveryError(f"{name}: GitHub gave no installation token", retryable=False)
        self._app_tokens[(base, app_id, installation)] = (token, time.time() + 50 * 60)
        return token


def _github_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}


def _block(content: Mapping[str, Any], service_type: str, name: str) -> Mapping[str, Any]:
    blocks = content.get(service_type) or {}
    block = blocks.get(name) if isinstance(blocks, Mapping) else None
    return block if isinstance(block, Mapping) else {}


def _joined(base: str, path: str, name: str) -> str:
    """``base`` + ``path``, refused when the result leaves ``base``'s scheme, host or port."""
    if not path:
        return base
    url = base.rstrip("/") + "/" + path.lstrip("/")
    try:
        want, got = httpx2.URL(base), httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError):
        raise DeliveryError(f"{name}: the URL is not valid", retryable=False) from None
    if (want.scheme, want.host, want.port) != (got.scheme, got.host, got.port) or "@" in path:
        raise DeliveryError(f"{name}: the path leaves the configured host", retryable=False)
    return url


def _json(response: httpx2.Response, name: str) -> Mapping[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, Mapping):
        raise DeliveryError(f"{name}: the answer is not a JSON object", retryable=False)
    return answer


def _check(response: httpx2.Response, name: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    raise DeliveryError(
        f"{name}: the receiver answered HTTP {code}",
        retryable=code in RETRYABLE_STATUS or code >= 500,
    )
