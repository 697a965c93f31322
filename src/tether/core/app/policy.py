"""Project enforcement: which sources, destinations and resources an AppProject permits.

Pure re-statement of Argo CD's AppProject rules, including their quirks (a negated pattern that does
not match counts as a match; an unset namespaced whitelist allows all, an empty one allows none).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

from tether.core import globs
from tether.core.app import compatibility, destinations
from tether.core.sync import backoff
from tether.model.application import Application
from tether.model.clusters import ClusterEntry
from tether.model.errors import InvalidInputError
from tether.model.project import (
    DEFAULT_PROJECT_NAME,
    AppProject,
    ClusterResourceRestriction,
    GroupKindPattern,
    default_project,
    parse_project,
)
from tether.model.resources import ResourceKey


def _is_deny(pattern: str | None) -> bool:
    return bool(pattern) and str(pattern).startswith("!")


# ---- repositories -------------------------------------------------------------------------------

_SSH_URL = re.compile(r"^(ssh://)?([^/:]*?)@[^@]+$")


def normalize_repo_url(url: str) -> str:
    """Normalize a repository URL for comparison, as Argo CD does before matching ``sourceRepos``.

    Lower-cased and trimmed; ``git@host:org/repo`` becomes ``git@host/org/repo``; ``.git`` and an
    ``ssh://`` prefix are dropped.
    """
    repo = url.strip().lower()
    if _SSH_URL.match(repo) and not repo.startswith("ssh://"):
        repo = "ssh://" + repo.replace(":", "/", 1)
    repo = repo.removesuffix(".git")
    try:
        normalized = urllib.parse.urlsplit(repo).geturl()
    except ValueError:
        return ""
    return normalized.removeprefix("ssh://")


def is_source_permitted(project: AppProject, repo_url: str) -> bool:
    """Whether ``sourceRepos`` permits a repository.

    Patterns are globs in which ``*`` stays within one path segment (``**`` crosses them); a pattern
    ``!p`` denies repositories matching ``p`` outright, whatever else matches.
    """
    wanted = normalize_repo_url(repo_url)
    any_matched = False
    for pattern in project.spec.source_repos or []:
        if _is_deny(pattern):
            normalized = "!" + normalize_repo_url(pattern[1:])
        else:
            normalized = normalize_repo_url(pattern)
        if globs.match(normalized, wanted, allow_negation=True, separators="/"):
            any_matched = True
        elif _is_deny(normalized):
            return False
    return any_matched


# ---- destinations -------------------------------------------------------------------------------


def is_destination_permitted(project: AppProject, server: str, name: str, namespace: str) -> bool:
    """Whether ``destinations`` permits a cluster (URL or name, either may be "") and a namespace.

    An entry matches when its server or its name matches and its namespace matches. A ``!``
    entry that fails to match its cluster (or, for a matching cluster, its namespace) denies.
    """
    any_matched = False
    for item in project.spec.destinations or []:
        item_server, item_name, item_ns = item.server or "", item.name or "", item.namespace or ""
        name_matched = bool(name) and globs.match(item_name, name, allow_negation=True)
        server_matched = bool(server) and globs.match(item_server, server, allow_negation=True)
        ns_matched = globs.match(item_ns, namespace, allow_negation=True)
        if (server_matched or name_matched) and ns_matched:
            any_matched = True
            continue
        cluster_denied = (not name_matched and _is_deny(item_name)) or (
            not server_matched and _is_deny(item_server) and ns_matched
        )
        namespace_denied = not ns_matched and _is_deny(item_ns) and server_matched
        if cluster_denied or namespace_denied:
            return False
    return any_matched


def is_app_namespace_permitted(project: AppProject, app_namespace: str, control_ns: str) -> bool:
    """Whether an Application in ``app_namespace`` may use the project (``sourceNamespaces``).

    Applications in the control-plane namespace always may; entries are globs, or regular
    expressions when wrapped in ``/``.
    """
    if not app_namespace or app_namespace == control_ns:
        return True
    for entry in project.spec.source_namespaces or []:
        if len(entry) > 1 and entry.startswith("/") and entry.endswith("/"):
            try:
                if re.search(entry[1:-1], app_namespace):
                    return True
            except re.error:
                pass
        if globs.match(entry, app_namespace):
            return True
    return False


# ---- resources ----------------------------------------------------------------------------------


def _in_list(group: str, kind: str, patterns: Iterable[GroupKindPattern]) -> bool:
    return any(
        globs.filepath_match(p.kind, kind) and globs.filepath_match(p.group, group)
        for p in patterns
    )


def _in_named_list(
    group: str, kind: str, name: str, patterns: Iterable[ClusterResourceRestriction]
) -> bool:
    return any(
        globs.filepath_match(p.kind, kind)
        and globs.filepath_match(p.group, group)
        and (not p.name or globs.filepath_match(p.name, name))
        for p in patterns
    )


def group_kind_problem(
    project: AppProject, group: str, kind: str, name: str, namespaced: bool
) -> str:
    """Why the project refuses a kind, or ``""`` when it permits it.

    Namespaced kinds: allowed unless blacklisted, and, when a whitelist is set, only if
    whitelisted (an empty whitelist allows none). Cluster-scoped kinds: denied unless whitelisted.
    """
    spec = project.spec
    if namespaced:
        whitelist = spec.namespace_resource_whitelist
        if whitelist is not None and not _in_list(group, kind, whitelist):
            return "namespaced kind is not in namespaceResourceWhitelist"
        if _in_list(group, kind, spec.namespace_resource_blacklist or []):
            return "namespaced kind is in namespaceResourceBlacklist"
        return ""
    if not _in_named_list(group, kind, name, spec.cluster_resource_whitelist or []):
        return "cluster-scoped resource is not in clusterResourceWhitelist"
    if _in_named_list(group, kind, name, spec.cluster_resource_blacklist or []):
        return "cluster-scoped resource is in clusterResourceBlacklist"
    return ""


# ---- whole-Application checks -------------------------------------------------------------------


def project_or_default(name: str, found: AppProject | None, control_ns: str) -> AppProject | None:
    """The project an Application refers to; the built-in ``default`` if that one is not stored."""
    if found is not None:
        return found
    if name == DEFAULT_PROJECT_NAME:
        return parse_project(default_project(control_ns))
    return None


def check_application(
    app: Application, project: AppProject, control_ns: str, *, cluster: ClusterEntry
) -> list[str]:
    """Every reason the Application is refused: namespace, sources, destination, retry, fields.

    ``cluster`` is the app's destination as resolved (``destinations.resolve``); the project
    permits it by its name or its URL. The fields are those the app or its project sets and
    tether does not honour (``compatibility``). An empty list means permitted. Each message
    names the Application or the project.
    """
    who = f"Application {app.qualified_name}"
    where = f"project {project.name!r}"
    problems: list[str] = []
    if not is_app_namespace_permitted(project, app.namespace, control_ns):
        problems.append(f"{who}: namespace {app.namespace!r} is not in sourceNamespaces of {where}")
    problems.extend(
        f"{who}: repository {source.repo_url!r} is not permitted in {where}"
        for source in app.effective_sources()
        if not is_source_permitted(project, source.repo_url)
    )
    retry = app.spec.sync_policy.retry if app.spec.sync_policy else None
    retry_problem = backoff.problem(retry) if retry is not None else None
    if retry_problem:
        # Followed as written it would mean no retry at all: refused, not silently dropped.
        problems.append(f"{who}: spec.syncPolicy.{retry_problem}")
    namespace = app.spec.destination.namespace or ""
    if not is_destination_permitted(project, cluster.server, cluster.name, namespace):
        named = app.spec.destination.name or cluster.server
        problems.append(
            f"{who}: destination cluster {named!r} namespace {namespace!r} "
            f"is not permitted in {where}"
        )
    # Refused, not ignored: honouring them would change what is deployed, where or when.
    problems.extend(compatibility.blocking_problems(app, project))
    return problems


def check_resources(
    app: Application,
    project: AppProject,
    resources: Iterable[ResourceKey],
    *,
    cluster: ClusterEntry,
) -> list[str]:
    """Every rendered resource the project or the destination cluster refuses, with the reason.

    A key with an empty namespace is cluster-scoped. Namespaced resources must also land in a
    namespace the project's destinations permit on the Application's cluster.
    """
    who = f"Application {app.qualified_name}"
    where = f"project {project.name!r}"
    problems: list[str] = []
    for key in resources:
        reason = resource_problem(project, key, cluster=cluster)
        if reason:
            problems.append(f"{who}: resource {key} is not permitted in {where}: {reason}")
    return problems


def resource_problem(project: AppProject, key: ResourceKey, *, cluster: ClusterEntry) -> str:
    """Why the project (or the cluster's Secret) refuses the app this resource, or ``""``.

    Applies to live objects too: one carrying the app's tracking in a namespace or of a kind
    the project does not permit is not the app's to compare, prune or cascade-delete (anyone
    able to write there could have labelled it), as Argo CD filters live objects.
    """
    namespaced = bool(key.namespace)
    reason = group_kind_problem(project, key.group, key.kind, key.name, namespaced)
    if (
        not reason
        and namespaced
        and not is_destination_permitted(project, cluster.server, cluster.name, key.namespace)
    ):
        reason = f"namespace {key.namespace!r} is not a permitted destination"
    return reason or destinations.limit_problem(cluster, key)


SERVICE_ACCOUNT_FORBIDDEN = "!*[]{}\\/"
"""Characters a ``defaultServiceAccount`` may not hold (Argo CD's rule): no globs, no paths."""


def service_account(app: Application, project: AppProject, *, server: str) -> str:
    """The user a sync of ``app`` impersonates, or ``""`` for the controller's own credentials.

    The first ``destinationServiceAccounts`` entry whose server and namespace globs match the
    app's destination (``server``, as resolved) names it: ``ns:name``, or ``name`` in the
    destination namespace (the app's own when it has none). No match falls back to the
    controller, as Argo CD does unless impersonation is enforced.

    Raises:
        InvalidInputError: the matching entry names no valid service account.
    """
    namespace = app.spec.destination.namespace or ""
    for index, entry in enumerate(project.spec.destination_service_accounts or []):
        if not (
            globs.match(entry.server, server) and globs.match(entry.namespace or "", namespace)
        ):
            continue
        account = entry.default_service_account.strip()
        if not account or any(c in SERVICE_ACCOUNT_FORBIDDEN for c in account):
            raise InvalidInputError(
                f"AppProject {project.name!r}: spec.destinationServiceAccounts[{index}]."
                f"defaultServiceAccount {entry.default_service_account[:80]!r} is not a "
                "service account name"
            )
        if ":" not in account:
            account = f"{namespace or app.namespace}:{account}"
        return f"system:serviceaccount:{account}"
    return ""
