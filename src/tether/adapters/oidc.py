"""HTTP to an OpenID Connect issuer: discovery, keys, the token endpoint (``ports.OidcProvider``).

TLS is verified against the system's roots, or only ``rootCA`` when given; never skipped unless
``oidc.tls.insecure.skip.verify`` says so. Answers are size-capped JSON objects; errors name the
endpoint and the issuer's error code, never a token, code or secret.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any

import httpx2

from tether.model.errors import IdentityProviderError

TIMEOUT_S = 10.0
MAX_BODY_BYTES = 1 << 20
"""Discovery documents, key sets and token answers are a few KiB; more is not an issuer's."""

WELL_KNOWN = "/.well-known/openid-configuration"


class OidcHttp:
    """One issuer connection pool with its TLS trust."""

    def __init__(self, *, root_ca: str = "", insecure_skip_verify: bool = False) -> None:
        verify: ssl.SSLContext | bool
        if insecure_skip_verify:
            verify = False
        elif root_ca:
            try:
                verify = ssl.create_default_context(cadata=root_ca)
            except (ssl.SSLError, ValueError):
                raise IdentityProviderError("oidc.config rootCA: not PEM certificates") from None
        else:
            verify = True
        self._http = httpx2.AsyncClient(
            verify=verify, timeout=httpx2.Timeout(TIMEOUT_S), follow_redirects=False
        )

    async def discovery(self, issuer: str) -> Mapping[str, Any]:
        """GET ``<issuer>/.well-known/openid-configuration``."""
        return await self._json("GET", issuer.rstrip("/") + WELL_KNOWN, what="discovery")

    async def jwks(self, jwks_uri: str) -> Mapping[str, Any]:
        """GET the key set."""
        return await self._json("GET", jwks_uri, what="keys")

    async def exchange(
        self, token_endpoint: str, form: Mapping[str, str], client_id: str, client_secret: str
    ) -> Mapping[str, Any]:
        """POST a token request; a client with a secret authenticates with HTTP Basic."""
        body = dict(form)
        auth: httpx2.BasicAuth | None = None
        if client_secret:
            auth = httpx2.BasicAuth(client_id, client_secret)
        else:
            body["client_id"] = client_id
        return await self._json("POST", token_endpoint, what="token", data=body, auth=auth)

    async def aclose(self) -> None:
        """Close the pool."""
        await self._http.aclose()

    async def _json(
        self,
        method: str,
        url: str,
        *,
        what: str,
        data: Mapping[str, str] | None = None,
        auth: httpx2.BasicAuth | None = None,
    ) -> Mapping[str, Any]:
        if not url.lower().startswith(("https://", "http://")):
            raise IdentityProviderError(f"OIDC {what} endpoint is not an http(s) URL")
        try:
            request = self._http.build_request(
                method, url, data=data, headers={"Accept": "application/json"}
            )
            response = await self._http.send(request, auth=auth, stream=True)
            try:
                body = await _read_capped(response)
            finally:
                await response.aclose()
        except httpx2.HTTPError as err:
            raise IdentityProviderError(
                f"OIDC {what} request to {_origin(url)} failed: {type(err).__name__}"
            ) from None
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        if response.status_code >= 400:
            raise IdentityProviderError(
                f"OIDC {what} endpoint at {_origin(url)} answered {response.status_code}"
                + _error_code(parsed)
            )
        if not isinstance(parsed, dict):
            raise IdentityProviderError(
                f"OIDC {what} endpoint at {_origin(url)}: not a JSON object"
            )
        return parsed


async def _read_capped(response: httpx2.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise IdentityProviderError("OIDC answer larger than 1 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_code(parsed: object) -> str:
    # RFC 6749's error code is a fixed vocabulary; the free-text description is not repeated.
    if isinstance(parsed, dict):
        code = parsed.get("error")
        if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) < 64:
            return f" ({code})"
    return ""


def _origin(url: str) -> str:
    parsed = httpx2.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"
