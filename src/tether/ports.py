"""The ports: small Protocols for everything tether needs from the outside world.

Services depend on these; adapters implement them; ``tether.bootstrap`` wires one to the other.
Read this file first to see every boundary tether has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from tether.core.cluster.cachepolicy import Change
from tether.core.cluster.sharding import View
from tether.core.cluster.versions import ClusterVersions
from tether.core.sources.rendered import RenderResult
from tether.core.sources.rendering import BuildOptions, RenderRequest
from tether.model.application import Application
from tether.model.resources import GroupKind, Manifest, ResourceKey
from tether.model.revisions import RevisionMetadata

FieldValidation = Literal["Strict", "Warn", "Ignore", ""]
"""How the API server treats fields its schema does not know (``fieldValidation``): ``Strict``
refuses the write naming the field, ``Ignore`` drops it silently, ``""`` sends nothing (the
server's default, ``Warn``: dropped with a warning nobody reads)."""


class Cluster(Protocol):
    """The Kubernetes API, narrowed to what tether does with it."""

    async def apply(
        self,
        obj: Manifest,
        *,
        field_manager: str,
        force: bool = True,
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Server-side apply one object and return what the server stored (or would store)."""
        ...

    async def get(
        self, api_version: str, kind: str, name: str, namespace: str = ""
    ) -> dict[str, Any] | None:
        """Read one object, or ``None`` when it does not exist."""
        ...

    async def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str = "",
        *,
        propagation: str = "Foreground",
        grace_period_s: int | None = None,
    ) -> bool:
        """Delete one object; ``False`` when it was already gone.

        ``grace_period_s`` overrides the object's own (0: at once, as ``kubectl --force``).
        """
        ...

    async def create(
        self,
        obj: Manifest,
        *,
        field_manager: str = "",
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Create an object (``generateName`` works); for hooks and Events."""
        ...

    async def update(
        self,
        obj: Manifest,
        *,
        field_manager: str = "",
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Replace an object, its resourceVersion acting as an optimistic lock."""
        ...

    async def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str = "",
        *,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        patch_type: Literal["merge", "json", "strategic"] = "merge",
        subresource: str = "",
        field_manager: str = "",
        dry_run: bool = False,
        validation: FieldValidation = "",
    ) -> dict[str, Any]:
        """Patch an object: a merge or strategic merge patch (mapping), a JSON patch (list)."""
        ...

    async def openapi_v3(self, api_version: str) -> dict[str, Any] | None:
        """The OpenAPI v3 document the API server publishes for a group version, or ``None``.

        Client-side apply reads which kinds take strategic merge patches, and their merge keys.
        """
        ...

    async def service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int
    ) -> str:
        """A token bound to a ServiceAccount that expires (TokenRequest)."""
        ...

    def impersonating(self, user: str) -> Cluster:
        """The same API, every request made as ``user`` (``Impersonate-User``).

        The caller's own credentials must be allowed to impersonate ``user``.
        """
        ...

    def watch(
        self, api_version: str, kind: str, namespace: str = "", *, resource_version: str = ""
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Stream ``(event type, object)`` pairs from a resourceVersion."""
        ...

    async def list(
        self, api_version: str, kind: str, namespace: str = ""
    ) -> tuple[Sequence[dict[str, Any]], str]:
        """List the objects of one type; returns them and the list's resourceVersion."""
        ...


class ToolLocator(Protocol):
    """Finds (building once if needed) the external CLIs tether runs."""

    def path_of(self, tool: str) -> str:
        """The absolute path of a tool binary such as ``helm`` or ``kustomize``."""
        ...


class GitRepos(Protocol):
    """Git repositories by URL: resolve revisions, materialise commits read-only.

    ``project`` is the AppProject of the app asking: credentials scoped to a project serve only
    its apps, and what they fetched is never served to another project's.
    """

    async def resolve(
        self, repo_url: str, revision: str, *, refresh: bool = False, project: str = ""
    ) -> str:
        """Resolve a branch, tag, semver constraint, ref or SHA to a full commit SHA.

        ``refresh`` bypasses the short-lived resolution cache (a hard refresh or a webhook).
        """
        ...

    async def checkout(self, repo_url: str, sha: str, *, project: str = "") -> str:
        """A read-only directory holding the tree of commit ``sha``; reused across calls."""
        ...

    async def changed_paths(
        self, repo_url: str, old_sha: str, new_sha: str, *, project: str = ""
    ) -> list[str]:
        """Paths touched between two commits (for monorepo render-cache reuse)."""
        ...

    async def commit(self, repo_url: str, sha: str, *, project: str = "") -> RevisionMetadata:
        """Author, date, tags and message of the commit ``sha`` (a full SHA)."""
        ...


class Renderer(Protocol):
    """Renders one Application source from a checkout into Kubernetes objects."""

    async def render(self, request: RenderRequest) -> list[dict[str, Any]]:
        """All objects of one source in order; raises ``RenderError``/``InvalidInputError``."""
        ...

    async def tool_versions(self) -> Mapping[str, str]:
        """Versions of the tools renders depend on (part of every render-cache key)."""
        ...

    async def reads_cluster_versions(self, request: RenderRequest) -> bool:
        """Whether rendering ``request`` may read the destination's versions.

        A chart, a plugin, kustomize inflating charts: only then are they part of its
        render-cache key.
        """
        ...


class ManifestSource(Protocol):
    """An Application's desired state: rendered in this process, or by a ``tether repo-server``."""

    async def render_application(
        self,
        app: Application,
        *,
        refresh: bool = False,
        hard_refresh: bool = False,
        revisions: Sequence[str] | None = None,
        kube_version: str = "",
        api_versions: Sequence[str] = (),
        options: BuildOptions | None = None,
    ) -> RenderResult:
        """Every object of the app's sources, or a failure: unknown desired state, never empty.

        ``refresh`` resolves symbolic revisions afresh; ``hard_refresh`` also bypasses the render
        cache; ``revisions`` are already resolved commits per source. ``options`` are the
        operator's build options; ``None`` renders with the ones this source is configured with.
        """
        ...

    async def revision_metadata(
        self, app: Application, revision: str, *, source_index: int = 0
    ) -> RevisionMetadata:
        """Commit ``revision`` (a full SHA) of the app's source ``source_index``.

        Read as the app's project reaches that repository; raises ``TetherError`` (a Helm source
        has no commits).
        """
        ...


class DiskCache(Protocol):
    """What renders leave on disk (checked-out trees, pulled charts), kept within bounds."""

    async def prune(self) -> list[str]:
        """Delete what is idle beyond the limits; returns what was removed.

        Raises:
            OSError: the disk refused (full, read-only); the next round tries again.
        """
        ...


class RenderCache(Protocol):
    """Rendered sources kept beyond this process (on disk), for a restart or another replica.

    Keyed as the in-memory render cache is (``rendering.cache_key``): repository, commit, path,
    the digest of every option and context entry a render depends on, tool versions.
    """

    async def load(self, key: Sequence[str]) -> list[dict[str, Any]] | None:
        """The objects kept for ``key``; ``None`` when absent or unreadable (never raises)."""
        ...

    async def store(self, key: Sequence[str], objects: Sequence[Mapping[str, Any]]) -> None:
        """Keep ``objects`` for ``key``, best effort: a failing disk is logged, never raised."""
        ...


@dataclasses.dataclass(frozen=True)
class CacheStats:
    """How a watch cache stands, for metrics and readiness."""

    objects: int
    """Objects held."""
    api_resources: int
    """Types watched."""
    failing: int
    """Watched types whose list fails now (their objects are unknown)."""
    synced_at: float | None
    """When every type had been listed once (seconds since the epoch); ``None`` before."""


class LiveState(Protocol):
    """The watch-fed view of a cluster the controller compares against (no requests made)."""

    def stats(self) -> CacheStats:
        """How the cache stands now (read from memory)."""
        ...

    def manifest(self, key: ResourceKey) -> Mapping[str, Any] | None:
        """The full live object, when the cache keeps it (tracked objects, CRDs, apps)."""
        ...

    def exists(self, key: ResourceKey) -> bool:
        """Whether the cache holds the object, in full or only slim (``manifest`` is ``None``)."""
        ...

    def managed_by(self, app_instance: str) -> Sequence[ResourceKey]:
        """Keys of the live objects whose tracking names ``app_instance``."""
        ...

    def is_namespaced(self, group_kind: GroupKind) -> bool | None:
        """Whether a kind is namespaced; ``None`` when the cluster does not know the kind."""
        ...

    def preferred_version(self, group_kind: GroupKind) -> str | None:
        """The ``apiVersion`` to use for a kind, or ``None`` when the kind is unknown."""
        ...

    def keys_of(self, group_kind: GroupKind) -> set[ResourceKey]:
        """Every cached object of one kind."""
        ...

    def served_kinds(self) -> frozenset[GroupKind]:
        """Every kind the API server serves, per the last discovery."""
        ...

    def versions(self) -> ClusterVersions:
        """The server's Kubernetes version and API versions, per the last discovery.

        What Helm and plugins render this cluster's apps for (``render_application``'s).
        """
        ...

    def namespace_outline(self, namespace: str) -> Sequence[tuple[Manifest, str]]:
        """Every cached object of a namespace as ``(identity and owners, tracking app)`` pairs.

        The manifests carry only apiVersion, kind, name, namespace, uid and ownerReferences:
        enough for orphan detection and for linking owners, cheap for objects kept slim.
        """
        ...

    def subscribe(self, subscriber: Callable[[Change], None]) -> Callable[[], None]:
        """Hear every real change (no-op updates filtered); returns the unsubscribe function."""
        ...

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait until every watched type has been listed once."""
        ...


class Flag(Protocol):
    """Something that becomes set, and can be waited for (an ``asyncio.Event``)."""

    def is_set(self) -> bool:
        """Whether it is set now."""
        ...

    async def wait(self) -> Literal[True]:
        """Wait until it is set."""
        ...


class LeaderElection(Protocol):
    """One candidate for leadership; only a leader reconciles."""

    @property
    def leading(self) -> Flag:
        """Set while this candidate leads."""
        ...

    @property
    def stopped_leading(self) -> Flag:
        """Set once this candidate has stopped leading."""
        ...

    async def run(self) -> None:
        """Campaign and lead until cancelled, releasing leadership on the way out."""
        ...


class Membership(Protocol):
    """A sharded replica's Lease and its view of every replica's; the view decides its apps."""

    @property
    def current(self) -> View:
        """The replicas that count now."""
        ...

    def subscribe(self, listener: Callable[[View], None]) -> None:
        """Call ``listener`` with each new view."""
        ...

    async def run(self) -> None:
        """Hold the Lease and follow every replica's until cancelled, then release it."""
        ...


class OidcProvider(Protocol):
    """An OpenID Connect issuer's HTTP endpoints; raises ``IdentityProviderError`` on failure."""

    async def discovery(self, issuer: str) -> Mapping[str, Any]:
        """The issuer's ``/.well-known/openid-configuration`` document."""
        ...

    async def jwks(self, jwks_uri: str) -> Mapping[str, Any]:
        """The issuer's signing keys (a JWK Set)."""
        ...

    async def exchange(
        self, token_endpoint: str, form: Mapping[str, str], client_id: str, client_secret: str
    ) -> Mapping[str, Any]:
        """POST a token request (``client_secret_basic``, or ``client_id`` alone when public)."""
        ...

    async def aclose(self) -> None:
        """Close its connections."""
        ...


class Evaluator(Protocol):
    """Argo CD's expressions (expr-lang/expr) and Go templates (with Sprig), with a deadline.

    Raises ``EvaluationError`` when a program or template does not compile, fails, or runs past
    the deadline.
    """

    async def expr(self, program: str, env: Mapping[str, Any]) -> Any:
        """The value of an expression over ``env`` (times come back as RFC 3339 strings)."""
        ...

    async def template(
        self,
        text: str,
        data: Mapping[str, Any],
        *,
        mode: Literal["html", "text"] = "html",
        options: Sequence[str] = (),
    ) -> str:
        """A Go template executed over ``data`` (``options``: ``missingkey=error``, say)."""
        ...

    async def aclose(self) -> None:
        """Stop the worker."""
        ...


@dataclasses.dataclass(frozen=True)
class Message:
    """One rendered notification for one recipient of one configured service.

    ``settings`` are the service's, secrets resolved: only a ``Sender`` reads them, and
    ``secrets`` lists what any message about this send must mask.
    """

    service_type: str
    service_name: str
    recipient: str
    settings: Mapping[str, Any] = dataclasses.field(repr=False)
    content: Mapping[str, Any] = dataclasses.field(repr=False)
    """The template's fields rendered: ``message`` and the service's block."""
    secrets: tuple[str, ...] = dataclasses.field(default=(), repr=False)


class Sender(Protocol):
    """Delivers notifications; raises ``DeliveryError`` (``retryable`` or not), never secrets."""

    async def send(self, message: Message) -> None:
        """One attempt to deliver ``message``."""
        ...

    async def aclose(self) -> None:
        """Close its connections."""
        ...
