"""``ports.ManifestSource`` over a ``tether repo-server``: the controller's side of the split.

Each render goes out with a bearer token and only the credentials that app's sources use. Every
way it can go wrong (unreachable, timed out, refused, garbled) answers a ``RenderFailed`` that
names the repo-server's URL and never the token: the desired state is unknown, so the controller
keeps its last good status and prunes nothing.
"""

from __future__ import annotations

import datetime
import logging
import ssl
from collections.abc import Callable, Sequence

import httpx2
import orjson

from tether.core.sources import rendering, renderwire, repocreds
from tether.core.sources.rendered import RenderFailed, RenderResult
from tether.model.application import Application
from tether.model.errors import GitError, InvalidInputError
from tether.model.revisions import RevisionMetadata

log = logging.getLogger(__name__)

RENDER_PATH = "/v1/render"
METADATA_PATH = "/v1/revision-metadata"

MAX_ANSWER_BYTES = 256 * 1024 * 1024
"""No answer may be larger than what one tool may print (``rendering.max_output_bytes``)."""

MAX_ERROR_BYTES = 4096
"""How much of an error answer is read: the repo-server explains a refusal in one line."""

CONNECT_TIMEOUT_S = 5.0
"""A repo-server on the same network accepts at once; longer means it is down."""

CredentialsFor = Callable[[Application], repocreds.CredentialStore]
"""The entries one app may use, e.g. ``RepoCredentials.for_application``."""


class RepoServerClient:
    """Renders Applications by asking a repo-server over HTTP(S)."""

    def __init__(
        self,
        url: str,
        token: str,
        credentials_for: CredentialsFor,
        *,
        ca_file: str = "",
        timeout: datetime.timedelta = datetime.timedelta(minutes=5),
        options: Callable[[], rendering.BuildOptions] = rendering.BuildOptions,
    ) -> None:
        """A client for the repo-server at ``url``; no connection is made until a render.

        Args:
            url: the repo-server's base URL, ``http(s)://host:port``.
            token: the bearer token it expects.
            credentials_for: the credentials one app may use, sent along with its render.
            ca_file: the CA that signed an https repo-server's certificate; the system's if
                empty.
            timeout: how long one render may take, queueing on the repo-server included.
            options: the operator's current build options, sent with every render.
        """
        self.url = repocreds.redact_url(url.rstrip("/"))
        self._options = options
        self._credentials_for = credentials_for
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        self._http = httpx2.AsyncClient(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            verify=verify,
            timeout=httpx2.Timeout(timeout.total_seconds(), connect=CONNECT_TIMEOUT_S),
            # Never hand the token to a proxy from the environment, nor to a redirect's target.
            trust_env=False,
            follow_redirects=False,
        )

    async def render_application(
        self,
        app: Application,
        *,
        refresh: bool = False,
        hard_refresh: bool = False,
        revisions: Sequence[str] | None = None,
        kube_version: str = "",
        api_versions: Sequence[str] = (),
        options: rendering.BuildOptions | None = None,
    ) -> RenderResult:
        """Ask the repo-server to render ``app`` (see ``ports.ManifestSource``).

        The operator's build options go along (this controller's current ones unless given):
        they are ``argocd-cm``'s, which the repo-server cannot read.
        """
        call = renderwire.RenderCall(
            application=app,
            refresh=refresh,
            hard_refresh=hard_refresh,
            revisions=None if revisions is None else tuple(revisions),
            kube_version=kube_version,
            api_versions=tuple(api_versions),
            credentials=self._credentials_for(app),
            options=options if options is not None else self._options(),
        )
        label = f"application {app.namespace or '-'}/{app.name or '?'}: repo-server {self.url}"
        try:
            status, body = await self._post(renderwire.encode_call(call))
        except httpx2.TimeoutException:
            return RenderFailed(f"{label}: no answer in time")
        except httpx2.HTTPError as err:
            # The exception's text may carry the request; its type says what went wrong.
            return RenderFailed(f"{label}: unreachable ({_reason(err)})")
        except _TooLarge:
            return RenderFailed(f"{label}: answer larger than {MAX_ANSWER_BYTES} bytes")
        if status != 200:
            return RenderFailed(f"{label}: answered HTTP {status}{_detail(status, body)}")
        try:
            return renderwire.decode_result(body)
        except InvalidInputError as err:
            return RenderFailed(f"{label}: a garbled answer ({err})")

    async def revision_metadata(
        self, app: Application, revision: str, *, source_index: int = 0
    ) -> RevisionMetadata:
        """Ask the repo-server for one commit of ``app``'s source (``ports.ManifestSource``).

        Raises:
            GitError: the repo-server could not read it, or could not be asked (said why).
        """
        call = renderwire.MetadataCall(
            application=app,
            revision=revision,
            source_index=source_index,
            credentials=self._credentials_for(app),
        )
        label = f"repo-server {self.url}"
        try:
            status, body = await self._post(renderwire.encode_metadata_call(call), METADATA_PATH)
        except httpx2.TimeoutException:
            raise GitError(f"{label}: no answer in time") from None
        except httpx2.HTTPError as err:
            raise GitError(f"{label}: unreachable ({_reason(err)})") from None
        except _TooLarge:
            raise GitError(f"{label}: answer larger than {MAX_ANSWER_BYTES} bytes") from None
        if status != 200:
            raise GitError(f"{label}: answered HTTP {status}{_detail(status, body)}")
        try:
            found = renderwire.decode_metadata(body)
        except InvalidInputError as err:
            raise GitError(f"{label}: a garbled answer ({err})") from None
        if isinstance(found, str):
            raise GitError(found)
        return found

    async def _post(self, body: bytes, path: str = RENDER_PATH) -> tuple[int, bytes]:
        async with self._http.stream(
            "POST", path, content=body, headers={"Content-Type": "application/json"}
        ) as response:
            if response.status_code != 200:
                # An error's explanation is short; more is not read.
                head = b""
                async for chunk in response.aiter_bytes():
                    head += chunk
                    if len(head) >= MAX_ERROR_BYTES:
                        break
                return response.status_code, head[:MAX_ERROR_BYTES]
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise _TooLarge
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()


class _TooLarge(Exception):
    """An answer went past ``MAX_ANSWER_BYTES``."""


_STATUS_DETAIL = {
    401: "the token was refused",
    413: "the request was too large",
}


def _detail(status: int, body: bytes) -> str:
    """What an error answer means; a 400's own explanation (a field name, never a value)."""
    if status == 400:
        try:
            error = orjson.loads(body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        return f": refused as malformed: {error[:500]}" if isinstance(error, str) else ""
    detail = _STATUS_DETAIL.get(status)
    return f": {detail}" if detail else ""


def _reason(err: httpx2.HTTPError) -> str:
    """The kind of failure, from the exception's type; its text is never passed on."""
    if isinstance(err, httpx2.ConnectError):
        if "SSL" in str(err) or "certificate" in str(err).lower():
            return "TLS handshake failed"
        return "connection refused"
    return type(err).__name__
