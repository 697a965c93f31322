"""An Application's resource tree as the live cache shows it: objects, descendants, orphans.

The roots are what the app manages (its tracking in the cache, plus ``status.resources``); the
children come from owner references (``core.app.tree``). Objects of kinds or namespaces the
app's project does not permit are left out with their descendants: the API's resource calls act
only on nodes of this tree (CVE-2022-24768, CVE-2022-1025).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from tether import ports
from tether.core.app import policy, tree
from tether.core.diff import tracking
from tether.model import application
from tether.model.application import Application
from tether.model.clusters import ClusterEntry
from tether.model.project import AppProject
from tether.model.resources import Manifest, ResourceKey, metadata_of

CONTROL_OBJECTS = (
    # The controller's own objects in a namespace are never anyone's forgotten workload.
    tree.OrphanIgnore(application.GROUP_KIND.group, application.GROUP_KIND.kind),
    tree.OrphanIgnore("argoproj.io", "AppProject"),
)


@dataclasses.dataclass(frozen=True)
class TreeEntry:
    """One object of the tree: the cache's full manifest when it keeps one, else its outline."""

    key: ResourceKey
    obj: Manifest
    parents: tuple[ResourceKey, ...]

    @property
    def uid(self) -> str:
        """The object's UID (``""`` when the cache has none)."""
        return str(metadata_of(self.obj).get("uid") or "")


@dataclasses.dataclass(frozen=True)
class AppTree:
    """The nodes of an app's tree (depth-first from its managed objects) and its orphans."""

    nodes: tuple[TreeEntry, ...]
    orphans: tuple[TreeEntry, ...] = ()

    def find(self, key: ResourceKey) -> TreeEntry | None:
        """The node for ``key`` (orphans are not nodes: nothing may act on them through here)."""
        return next((node for node in self.nodes if node.key == key), None)


def managed_keys(live: ports.LiveState, app: Application, instance: str) -> list[ResourceKey]:
    """What ``app`` manages: its tracked live objects and its status's resources (hooks aside)."""
    keys = set(live.managed_by(instance))
    status = app.status.resources if app.status else None
    keys.update(entry.key for entry in status or [] if not entry.hook)
    return sorted(keys)


def build(
    live: ports.LiveState,
    app: Application,
    project: AppProject,
    cluster: ClusterEntry,
    *,
    control_plane_namespace: str,
) -> AppTree:
    """The tree of ``app`` on ``cluster`` (whose live state ``live`` is), as the project allows."""
    instance = app.app_instance_name(control_plane_namespace)
    roots = managed_keys(live, app, instance)
    destination = app.spec.destination.namespace or ""
    namespaces = {key.namespace for key in roots if key.namespace}
    if destination:
        namespaces.add(destination)
    objects: dict[ResourceKey, Mapping[str, Any]] = {}
    owners: dict[ResourceKey, str] = {}
    for namespace in sorted(namespaces):
        for outline, owner in live.namespace_outline(namespace):
            key = ResourceKey.of(outline)
            # The outline holds what links an object (UID, owners); decoding every object of a
            # namespace instead took 1.6 s where 10,000 Applications share the app's namespace.
            whole = live.manifest(key) if key.group_kind in tree.READS_WHOLE_OBJECT else None
            objects[key] = whole or outline
            owners[key] = owner
    for key in roots:
        full = live.manifest(key)
        if full is not None:
            objects[key] = full
    if not _watches_orphans(project, destination):
        # Only orphan detection looks at a namespace's unlinked objects: an app of apps'
        # namespace may hold 10,000 Applications, and building their graph took 100s of ms.
        objects = tree.linkable(objects, set(roots))
    graph = tree.build(objects.values())

    def permitted(key: ResourceKey) -> bool:
        return not policy.resource_problem(project, key, cluster=cluster)

    nodes = tree.hierarchy(graph, roots, visit=permitted)
    orphans = _orphans(live, project, graph, destination, roots, owners, control_plane_namespace)
    orphan_nodes = tree.hierarchy(graph, orphans, visit=permitted) if orphans else []
    return AppTree(
        nodes=tuple(_entries(live, graph, nodes)),
        orphans=tuple(_entries(live, graph, orphan_nodes)),
    )


def _entries(
    live: ports.LiveState, graph: tree.ResourceGraph, nodes: Iterable[tree.TreeNode]
) -> list[TreeEntry]:
    return [
        TreeEntry(node.key, live.manifest(node.key) or graph.objects[node.key], node.parents)
        for node in nodes
    ]


def _watches_orphans(project: AppProject, destination: str) -> bool:
    """Whether the project monitors orphans and the app has a namespace to watch (as Argo CD)."""
    settings = project.spec.orphaned_resources if project.spec else None
    return settings is not None and bool(destination)


def _orphans(
    live: ports.LiveState,
    project: AppProject,
    graph: tree.ResourceGraph,
    destination: str,
    managed: list[ResourceKey],
    owners: Mapping[ResourceKey, str],
    control_plane_namespace: str,
) -> list[ResourceKey]:
    """Orphans of the destination namespace, only when the project monitors them (as Argo CD)."""
    settings = project.spec.orphaned_resources if project.spec else None
    if settings is None or not _watches_orphans(project, destination):
        return []
    existing = {
        tracking.app_instance(key.name, key.namespace, control_plane_namespace)
        for key in live.keys_of(application.GROUP_KIND)
    }
    ignore = [
        *CONTROL_OBJECTS,
        *(
            tree.OrphanIgnore(i.group or "", i.kind or "", i.name or "")
            for i in settings.ignore or []
        ),
    ]
    return tree.orphaned(
        graph,
        destination_namespace=destination,
        managed=set(managed),
        app_of=lambda obj: owners.get(ResourceKey.of(obj), ""),
        existing_apps=existing,
        ignore=ignore,
    )
