"""API discovery: which kinds exist, at which versions, under which plural, with which verbs.

One aggregated-discovery request each on ``/api`` and ``/apis`` (Kubernetes >= 1.30); the legacy
per-group walk only when the server does not speak it. One more on ``/version``: the server's
Kubernetes version, which renders target with the API versions found.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import urllib.parse

import msgspec

from tether.adapters.kube import errors
from tether.adapters.kube.transport import Transport
from tether.core.cluster import versions as cluster_versions
from tether.core.cluster.versions import ClusterVersions
from tether.model.resources import GroupKind, split_api_version

log = logging.getLogger(__name__)

AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)
"""Ask for aggregated discovery, accepting the legacy document as the fallback."""


@dataclasses.dataclass(frozen=True)
class ApiResource:
    """One resource type at one version, as discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str]
    subresources: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        """``group/version``, or ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> GroupKind:
        """The group and kind."""
        return GroupKind(self.group, self.kind)

    @property
    def has_status(self) -> bool:
        """Whether writes to ``status`` go through the status subresource."""
        return "status" in self.subresources

    @property
    def watchable(self) -> bool:
        """Whether the cache can list and watch it."""
        return {"list", "watch"} <= self.verbs

    def collection_url(self, namespace: str = "") -> str:
        """The collection path, in one namespace or across all of them."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{path_segment(namespace)}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_url(self, name: str, namespace: str = "", subresource: str = "") -> str:
        """The path of one object (or its subresource)."""
        url = f"{self.collection_url(namespace)}/{path_segment(name)}"
        return f"{url}/{subresource}" if subresource else url


def path_segment(value: str) -> str:
    """A name or namespace as one segment of a request's path, whoever chose it.

    Quoted, so a ``?``, ``#``, ``%`` or ``/`` can never add a query, a fragment or a segment
    (an API caller's ``web?x`` must not read ``web``); ``.`` and ``..``, which would climb to
    another path once normalised, name no object at all (Kubernetes refuses them as names).
    """
    if value in (".", ".."):
        raise errors.NotFoundError(f"{value!r} is not an object name", code=404, reason="NotFound")
    return urllib.parse.quote(value, safe=":@")


# Aggregated discovery (apidiscovery.k8s.io/v2), only the fields used.


class _Kind(msgspec.Struct):
    kind: str = ""


class _Sub(msgspec.Struct):
    subresource: str = ""


class _Res(msgspec.Struct):
    resource: str = ""
    responseKind: _Kind | None = None
    scope: str = ""
    verbs: list[str] = msgspec.field(default_factory=list)
    subresources: list[_Sub] | None = None


class _Ver(msgspec.Struct):
    version: str = ""
    resources: list[_Res] = msgspec.field(default_factory=list)


class _Meta(msgspec.Struct):
    name: str = ""


class _Group(msgspec.Struct):
    metadata: _Meta = msgspec.field(default_factory=_Meta)
    versions: list[_Ver] = msgspec.field(default_factory=list)


class _GroupList(msgspec.Struct):
    kind: str = ""
    items: list[_Group] = msgspec.field(default_factory=list)


class _Version(msgspec.Struct):
    gitVersion: str = ""
    major: str = ""
    minor: str = ""


# Legacy discovery documents.


class _LegacyRes(msgspec.Struct):
    name: str = ""
    kind: str = ""
    namespaced: bool = False
    verbs: list[str] = msgspec.field(default_factory=list)


class _LegacyResList(msgspec.Struct):
    resources: list[_LegacyRes] = msgspec.field(default_factory=list)


class _LegacyGV(msgspec.Struct):
    version: str = ""


class _LegacyGroup(msgspec.Struct):
    name: str = ""
    versions: list[_LegacyGV] = msgspec.field(default_factory=list)
    preferredVersion: _LegacyGV | None = None


class _LegacyGroups(msgspec.Struct):
    groups: list[_LegacyGroup] = msgspec.field(default_factory=list)
    versions: list[str] = msgspec.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Catalog:
    """One discovery result.

    Attributes:
        resources: Every (group, version, kind) the server serves.
        preferred: Per group and kind, the resource at the most preferred version serving it.
        versions: The server's Kubernetes version and API versions, as renders get them.
    """

    resources: dict[tuple[str, str, str], ApiResource]
    preferred: dict[GroupKind, ApiResource]
    versions: ClusterVersions = cluster_versions.UNKNOWN

    @classmethod
    def of(
        cls,
        groups: list[tuple[str, list[tuple[str, list[ApiResource]]]]],
        kube_version: str = "",
    ) -> Catalog:
        """Build from groups, each with versions in preference order, and the server's version."""
        resources: dict[tuple[str, str, str], ApiResource] = {}
        preferred: dict[GroupKind, ApiResource] = {}
        for _group, versions in groups:
            for _version, items in versions:
                for res in items:
                    resources[(res.group, res.version, res.kind)] = res
                    # The first version listing a kind wins: versions come most preferred first.
                    preferred.setdefault(res.group_kind, res)
        # Argo CD's: every version, of the types a cache could list and watch (no subresources).
        served = (key for key, res in resources.items() if res.watchable)
        return cls(
            resources,
            preferred,
            ClusterVersions(kube_version, cluster_versions.api_versions(served)),
        )


class Discovery:
    """Discovers the server's API types and answers lookups; ``refresh`` re-runs it."""

    def __init__(self, transport: Transport, *, aggregated: bool = True) -> None:
        """Create an empty discovery.

        Args:
            transport: The API server connection.
            aggregated: Ask for aggregated discovery; ``False`` forces the legacy walk (one
                request per group version), for servers or proxies that mangle the media type.
        """
        self._transport = transport
        self._accept = AGGREGATED_ACCEPT if aggregated else "application/json"
        self._catalog = Catalog({}, {})
        self._lock = asyncio.Lock()
        self._loaded = False

    @property
    def catalog(self) -> Catalog:
        """The last discovery result."""
        return self._catalog

    async def refresh(self) -> Catalog:
        """Run discovery again (after a CRD or APIService is added or removed)."""
        async with self._lock:
            groups = [*await self._aggregated("/api"), *await self._aggregated("/apis")]
            self._catalog = Catalog.of(groups, await self._kube_version())
            self._loaded = True
            return self._catalog

    async def ensure(self) -> Catalog:
        """Discover once; later calls return the cached result."""
        if not self._loaded:
            await self.refresh()
        return self._catalog

    def preferred(self) -> list[ApiResource]:
        """The preferred version of every kind, from the last discovery."""
        return list(self._catalog.preferred.values())

    async def resource(self, api_version: str, kind: str) -> ApiResource:
        """The resource for an apiVersion and kind, re-discovering once when it is unknown.

        Raises:
            NotFoundError: The server does not serve that kind at that version.
        """
        group, version = split_api_version(api_version)
        await self.ensure()
        found = self._catalog.resources.get((group, version, kind))
        if found is None:
            # A CRD applied moments ago: its kind appears after a fresh discovery.
            found = (await self.refresh()).resources.get((group, version, kind))
        if found is None:
            raise errors.NotFoundError(
                f"{kind}: the server has no kind {kind} in {api_version}",
                code=404,
                reason="NotFound",
            )
        return found

    async def _kube_version(self) -> str:
        try:
            response = await self._transport.request("get", "GET", "/version", what="/version")
            found = msgspec.json.decode(response.content, type=_Version)
        except (errors.ClusterError, msgspec.DecodeError) as exc:
            # The version known before stands (Helm's default before any); so do the kinds.
            log.warning("the server's version is unknown: %s", exc)
            return self._catalog.versions.kube_version
        return cluster_versions.kube_version(found.gitVersion, found.major, found.minor)

    async def _aggregated(self, root: str) -> list[tuple[str, list[tuple[str, list[ApiResource]]]]]:
        response = await self._transport.request(
            "get", "GET", root, what=f"discovery {root}", headers={"Accept": self._accept}
        )
        body = response.content
        if "apidiscovery.k8s.io" in response.headers.get("content-type", ""):
            return _from_aggregated(msgspec.json.decode(body, type=_GroupList))
        return await self._legacy(root, msgspec.json.decode(body, type=_LegacyGroups))

    async def _legacy(
        self, root: str, doc: _LegacyGroups
    ) -> list[tuple[str, list[tuple[str, list[ApiResource]]]]]:
        if root == "/api":
            pairs = [("", doc.versions)]
        else:
            pairs = []
            for g in doc.groups:
                versions = [v.version for v in g.versions]
                if g.preferredVersion and g.preferredVersion.version in versions:
                    versions.remove(g.preferredVersion.version)
                    versions.insert(0, g.preferredVersion.version)
                pairs.append((g.name, versions))
        groups = []
        for group, versions in pairs:
            per_version = []
            for version in versions:
                url = f"/apis/{group}/{version}" if group else f"/api/{version}"
                try:
                    response = await self._transport.request(
                        "get", "GET", url, what=f"discovery {url}"
                    )
                except errors.NotFoundError:
                    # Its CRD was deleted since the group list: the version is simply gone,
                    # and the rest of discovery still stands.
                    continue
                listing = msgspec.json.decode(response.content, type=_LegacyResList)
                per_version.append((version, _from_legacy(group, version, listing)))
            groups.append((group, per_version))
        return groups


def _from_aggregated(doc: _GroupList) -> list[tuple[str, list[tuple[str, list[ApiResource]]]]]:
    groups = []
    for item in doc.items:
        group = item.metadata.name
        versions = []
        for ver in item.versions:
            resources = [
                ApiResource(
                    group=group,
                    version=ver.version,
                    kind=res.responseKind.kind,
                    plural=res.resource,
                    namespaced=res.scope == "Namespaced",
                    verbs=frozenset(res.verbs),
                    subresources=frozenset(s.subresource for s in res.subresources or ()),
                )
                for res in ver.resources
                if res.responseKind and res.responseKind.kind
            ]
            versions.append((ver.version, resources))
        groups.append((group, versions))
    return groups


def _from_legacy(group: str, version: str, listing: _LegacyResList) -> list[ApiResource]:
    subresources: dict[str, set[str]] = {}
    for res in listing.resources:
        parent, _, sub = res.name.partition("/")
        if sub:
            subresources.setdefault(parent, set()).add(sub)
    return [
        ApiResource(
            group=group,
            version=version,
            kind=res.kind,
            plural=res.name,
            namespaced=res.namespaced,
            verbs=frozenset(res.verbs),
            subresources=frozenset(subresources.get(res.name, ())),
        )
        for res in listing.resources
        if "/" not in res.name
    ]
