"""``KubeClient``: the ``ports.Cluster`` implementation for arbitrary manifests, via discovery.

Objects stay plain dicts: the URL of each comes from discovery (group, version, plural, scope),
so custom resources need no generated classes.
"""

from __future__ import annotations

import contextlib
import copy
import pathlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal

import httpx2
import msgspec
from lightkube.config.kubeconfig import KubeConfig

from tether.adapters.kube import errors, incluster
from tether.adapters.kube.discovery import ApiResource, Discovery
from tether.adapters.kube.transport import RequestCounter, Transport, decode_status, json_body
from tether.model.clusters import ClusterCredentials, ClusterEntry
from tether.model.errors import NotLeaderError
from tether.model.resources import (
    Manifest,
    kind_of,
    metadata_of,
    name_of,
    namespace_of,
    split_api_version,
)
from tether.ports import FieldValidation

PATCH_TYPES: dict[str, str] = {
    # The patch flavours the API server accepts, by the short name callers use.
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}

PatchType = Literal["merge", "json", "strategic"]


def describe(kind: str, name: str, namespace: str = "") -> str:
    """How errors name an object: ``Kind namespace/name`` or ``Kind name``."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _is_secret(group: str, kind: str) -> bool:
    return group == "" and kind == "Secret"


WRITE_VERBS = frozenset({"apply", "create", "update", "patch", "delete"})
"""The verbs fencing refuses when this replica does not lead."""

LEASE = ("coordination.k8s.io", "Lease")
"""Leader election's own writes: fencing must never stop the renewal it depends on."""


class _OpenApiPath(msgspec.Struct):
    serverRelativeURL: str = ""


class _OpenApiIndex(msgspec.Struct):
    paths: dict[str, _OpenApiPath] = msgspec.field(default_factory=dict)


class _WatchEvent(msgspec.Struct):
    type: str
    object: msgspec.Raw


class KubeClient:
    """A Kubernetes API client over lightkube's authenticated ``httpx2.AsyncClient``.

    Attributes:
        transport: The connection (``transport.http`` is the raw escape hatch).
        discovery: The server's API types.
    """

    def __init__(self, transport: Transport, discovery: Discovery | None = None) -> None:
        self.transport = transport
        self.discovery = discovery or Discovery(transport)
        self._may_write: Callable[[], bool] | None = None
        self._impersonate = ""
        self._openapi_index: dict[str, str] = {}
        """Group version path (``apis/apps/v1``) to its document's URL, which carries its hash."""

    def fence(self, may_write: Callable[[], bool]) -> None:
        """Refuse every write (but the Lease's own, and dry runs) while ``may_write`` is false.

        Leader election installs its check here, so a replica that lost the Lease writes
        nothing more, even from work already under way, before a successor can take over.
        """
        self._may_write = may_write

    def impersonating(self, user: str) -> KubeClient:
        """This client acting as ``user``: same connection, discovery and fence.

        The API server authorises every request as ``user`` (a service account's groups come
        with it), so a sync can do no more than the account it runs as may.
        """
        return self._view(_impersonate=user)

    def unfenced(self) -> KubeClient:
        """This client writing whether this replica leads or not (the API server's callers)."""
        return self._view(_may_write=None)

    def _view(self, **changes: Any) -> KubeClient:
        view = copy.copy(self)
        view.__dict__.update(changes)
        return view

    async def service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int
    ) -> str:
        """A token bound to the ServiceAccount ``namespace/name`` (TokenRequest).

        Valid for ``expiration_seconds`` at most: the API server may shorten it.
        """
        res = await self.discovery.resource("v1", "ServiceAccount")
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": expiration_seconds},
        }
        response = await self._send(
            "create", "POST", res, name, namespace, subresource="token", body=json_body(body)
        )
        return str((response.get("status") or {}).get("token") or "")

    @classmethod
    def from_kubeconfig(
        cls, kubeconfig: pathlib.Path | str | None = None, *, context: str | None = None
    ) -> KubeClient:
        """A client for a kubeconfig file, or for the environment when ``kubeconfig`` is None."""
        return cls(Transport.from_kubeconfig(kubeconfig, context=context))

    @classmethod
    def for_cluster(cls, entry: ClusterEntry) -> KubeClient:
        """A client for a destination cluster, with the credentials of its cluster Secret.

        Only what the Secret holds is used: no file, no environment, no command.
        """
        credentials = entry.credentials or ClusterCredentials()
        cluster: dict[str, Any] = {"server": entry.server}
        if credentials.ca_data:
            cluster["certificate-authority-data"] = credentials.ca_data
        if credentials.insecure:
            cluster["insecure-skip-tls-verify"] = True
        user: dict[str, Any] = {}
        if credentials.bearer_token:
            user["token"] = credentials.bearer_token
        if credentials.username:
            user["username"] = credentials.username
            user["password"] = credentials.password
        if credentials.cert_data:
            user["client-certificate-data"] = credentials.cert_data
            user["client-key-data"] = credentials.key_data
        config = KubeConfig.from_dict(
            {
                "clusters": [{"name": "destination", "cluster": cluster}],
                "users": [{"name": "destination", "user": user}],
                "contexts": [
                    {
                        "name": "destination",
                        "context": {"cluster": "destination", "user": "destination"},
                    }
                ],
                "current-context": "destination",
            }
        )
        return cls(Transport.from_config(config))

    def twin(self) -> KubeClient:
        """A new client on new connections to the same cluster, as the same user, unfenced.

        For another thread's event loop (``Transport.twin``); close it on that loop.
        """
        return KubeClient(self.transport.twin())

    @property
    def counter(self) -> RequestCounter:
        """Requests sent, by verb."""
        return self.transport.counter

    @property
    def raw(self) -> httpx2.AsyncClient:
        """The authenticated ``httpx2.AsyncClient`` (base URL = API server): the escape hatch."""
        return self.transport.http

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self.transport.aclose()

    async def _locate(self, obj: Manifest) -> tuple[ApiResource, str, str]:
        res = await self.discovery.resource(str(obj.get("apiVersion", "")), kind_of(obj))
        namespace = (namespace_of(obj) or self.transport.namespace) if res.namespaced else ""
        return res, name_of(obj), namespace

    async def _send(
        self,
        verb: str,
        method: str,
        res: ApiResource,
        name: str,
        namespace: str,
        *,
        subresource: str = "",
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
        create: str = "",
    ) -> dict[str, Any]:
        if (
            self._may_write is not None
            and verb in WRITE_VERBS
            and not (params or {}).get("dryRun")
            and (res.group, res.kind) != LEASE
            and not self._may_write()
        ):
            raise NotLeaderError(
                f"{verb} {describe(res.kind, name or create, namespace)} refused: this replica "
                "does not hold the controller's Lease (or, sharded, the app is another's now)"
            )
        response = await self.transport.request(
            verb,
            method,
            res.object_url(name, namespace, subresource) if name else res.collection_url(namespace),
            what=describe(res.kind, name or create, namespace),
            params=params,
            content=body,
            content_type=content_type,
            headers={"Impersonate-User": self._impersonate} if self._impersonate else None,
            secret=_is_secret(res.group, res.kind),
            kind=res.kind,
            namespace=namespace,
        )
        decoded: dict[str, Any] = msgspec.json.decode(response.content)
        return decoded

    async def apply(
        self,
        obj: Manifest,
        *,
        field_manager: str,
        force: bool = True,
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Server-side apply; with ``dry_run`` the server returns what it would store (the diff)."""
        res, name, namespace = await self._locate(obj)
        body = dict(obj)
        if res.namespaced and not namespace_of(obj):
            body["metadata"] = {**metadata_of(obj), "namespace": namespace}
        params = _write_params(field_manager, dry_run, validation)
        params["force"] = "true" if force else "false"
        return await self._send(
            "apply",
            "PATCH",
            res,
            name,
            namespace,
            params=params,
            body=json_body(body),  # JSON is YAML, so the apply content type accepts it.
            content_type=PATCH_TYPES["apply"],
        )

    async def create(
        self,
        obj: Manifest,
        *,
        field_manager: str = "",
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Create an object (``metadata.generateName`` works)."""
        res, name, namespace = await self._locate(obj)
        params = _write_params(field_manager, dry_run, validation)
        label = name or f"{metadata_of(obj).get('generateName', '')}*"
        body = json_body(obj)
        return await self._send(
            "create", "POST", res, "", namespace, params=params, body=body, create=label
        )

    async def update(
        self,
        obj: Manifest,
        *,
        field_manager: str = "",
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Replace an object; its ``metadata.resourceVersion`` makes this an optimistic lock.

        Raises:
            ConflictError: The object changed since that resourceVersion was read.
        """
        res, name, namespace = await self._locate(obj)
        params = _write_params(field_manager, dry_run, validation)
        return await self._send(
            "update", "PUT", res, name, namespace, params=params, body=json_body(obj)
        )

    async def update_status(self, obj: Manifest, *, field_manager: str = "") -> dict[str, Any]:
        """Replace an object's status through the status subresource, when the type has one.

        Types without the subresource keep status in the main resource; the object is replaced.
        """
        res, name, namespace = await self._locate(obj)
        sub = "status" if res.has_status else ""
        params = _write_params(field_manager, False)
        body = json_body(obj)
        return await self._send(
            "update", "PUT", res, name, namespace, subresource=sub, params=params, body=body
        )

    async def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str = "",
        *,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        patch_type: PatchType = "merge",
        subresource: str = "",
        field_manager: str = "",
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Patch an object: a merge patch (dict), a JSON patch (list of ops) or a strategic one."""
        res = await self.discovery.resource(api_version, kind)
        namespace = (namespace or self.transport.namespace) if res.namespaced else ""
        return await self._send(
            "patch",
            "PATCH",
            res,
            name,
            namespace,
            subresource=subresource,
            params=_write_params(field_manager, dry_run, validation),
            body=json_body(patch),
            content_type=PATCH_TYPES[patch_type],
        )

    async def openapi_v3(self, api_version: str) -> dict[str, Any] | None:
        """The OpenAPI v3 document the server publishes for a group version, or ``None``.

        The index (``/openapi/v3``) is read once, and again when it lacks the group version (a
        CRD added since); each document's URL carries its content hash, so it is never stale.
        """
        group, version = split_api_version(api_version)
        path = f"apis/{group}/{version}" if group else f"api/{version}"
        if path not in self._openapi_index:
            try:
                response = await self.transport.request(
                    "get", "GET", "/openapi/v3", what="the OpenAPI v3 index"
                )
            except errors.NotFoundError:
                return None  # a server older than 1.27 publishes none
            index = msgspec.json.decode(response.content, type=_OpenApiIndex)
            self._openapi_index = {k: v.serverRelativeURL for k, v in index.paths.items()}
        url = self._openapi_index.get(path)
        if url is None:
            return None
        where, _, query = url.partition("?")
        params = dict(part.partition("=")[::2] for part in query.split("&") if part)
        response = await self.transport.request(
            "get", "GET", where, what=f"the OpenAPI v3 document of {api_version}", params=params
        )
        document: dict[str, Any] = msgspec.json.decode(response.content)
        return document

    async def get(
        self, api_version: str, kind: str, name: str, namespace: str = ""
    ) -> dict[str, Any] | None:
        """Read one object, or ``None`` when it (or its type) does not exist."""
        try:
            res = await self.discovery.resource(api_version, kind)
        except errors.NotFoundError:
            return None
        namespace = (namespace or self.transport.namespace) if res.namespaced else ""
        try:
            return await self._send("get", "GET", res, name, namespace)
        except errors.NotFoundError:
            return None

    async def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str = "",
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        grace_period_s: int | None = None,
    ) -> bool:
        """Delete one object; ``False`` when it was already gone.

        Foreground propagation (the default) keeps the object, with a deletion timestamp, until
        its dependents are gone, so "deleted" in the cache means the whole subtree is gone.
        """
        try:
            res = await self.discovery.resource(api_version, kind)
        except errors.NotFoundError:
            return False
        namespace = (namespace or self.transport.namespace) if res.namespaced else ""
        options: dict[str, Any] = {"propagationPolicy": propagation}
        if dry_run:
            options["dryRun"] = ["All"]
        if grace_period_s is not None:
            options["gracePeriodSeconds"] = grace_period_s
        try:
            await self._send("delete", "DELETE", res, name, namespace, body=json_body(options))
        except errors.NotFoundError:
            return False
        return True

    async def list(
        self, api_version: str, kind: str, namespace: str = "", *, label_selector: str = ""
    ) -> tuple[Sequence[dict[str, Any]], str]:
        """List all objects of a type (all pages); returns them and the list's resourceVersion."""
        res = await self.discovery.resource(api_version, kind)
        items: list[dict[str, Any]] = []
        selector = {"labelSelector": label_selector} if label_selector else {}
        params = {"limit": "500", **selector}
        while True:
            page = await self._send("list", "GET", res, "", namespace, params=params)
            for item in page.get("items") or []:
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
                items.append(item)
            meta = page.get("metadata") or {}
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion", ""))
            params = {"limit": "500", "continue": str(meta["continue"]), **selector}

    async def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str = "",
        *,
        resource_version: str = "",
        label_selector: str = "",
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Stream ``(type, object)`` events, bookmarks included, until the server ends the watch.

        Raises:
            GoneError: ``resource_version`` is too old; list again. The cache's reflector
                handles this itself; this method is for one-off waits.
        """
        res = await self.discovery.resource(api_version, kind)
        params = {"watch": "true", "allowWatchBookmarks": "true"}
        if resource_version:
            params["resourceVersion"] = resource_version
        if label_selector:
            params["labelSelector"] = label_selector
        url = res.collection_url(namespace)
        what = describe(res.kind, "*", namespace)
        async with self.transport.stream(url, params=params, what=what, read_timeout_s=600) as resp:
            async for line in resp.aiter_lines():
                if not line:
                    continue
                event = msgspec.json.decode(line, type=_WatchEvent)
                if event.type == "ERROR":
                    status = decode_status(bytes(event.object))
                    raise errors.from_status(status.code, status.reason, status.message, what)
                yield event.type, msgspec.json.decode(event.object)


def _write_params(
    field_manager: str, dry_run: bool, validation: FieldValidation = ""
) -> dict[str, str]:
    params = {"fieldManager": field_manager, "dryRun": "All" if dry_run else ""}
    params["fieldValidation"] = validation
    return {name: value for name, value in params.items() if value}


@contextlib.asynccontextmanager
async def open_context(
    kubeconfig: pathlib.Path | str | None, context: str | None = None
) -> AsyncIterator[tuple[KubeClient, str, str, bool]]:
    """A client for a kubeconfig context, with its server URL, CA (base64) and insecure flag."""
    server, ca_data, insecure = incluster.kubeconfig_cluster(kubeconfig, context)
    async with KubeClient.from_kubeconfig(kubeconfig, context=context) as client:
        yield client, server, ca_data, insecure
