"""An application's resource tree as a graph: nodes, edges and groups, from the API's JSON.

The input is Argo CD's ``ApplicationTree`` (``GET .../resource-tree``) and the app's
``status.resources`` (sync status per managed resource); the output is what the page draws and
lists. Pure: no I/O, so the shape of a tree is tested without a browser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

GROUP_ABOVE = 5
"""More sibling leaves of one kind than this under one parent are drawn as one group node: a
Deployment with forty Pods reads as one "Pod x40" node and keeps the graph a screenful."""

NEVER_GROUPED: dict[tuple[str, str], str] = {
    ("argoproj.io", "Application"): "each child app is a page of its own: an app of apps is read "
    "through its children, so every one stays a node that links there",
}
"""Kinds whose nodes stay single however many siblings they have, with the reason."""

QUIET_HEALTH = frozenset({"", "Healthy"})
"""Health that needs no attention: only such nodes hide in a group (a Degraded Pod stays out)."""

QUIET_SYNC = frozenset({"", "Synced"})
"""Sync that needs no attention (children have none): an OutOfSync resource stays out of groups."""

ABBREVIATIONS: dict[str, str] = {
    # kubectl's short names, the words people already read in a terminal.
    "Application": "app",
    "ConfigMap": "cm",
    "CronJob": "cj",
    "CustomResourceDefinition": "crd",
    "DaemonSet": "ds",
    "Deployment": "deploy",
    "EndpointSlice": "eps",
    "Endpoints": "ep",
    "HorizontalPodAutoscaler": "hpa",
    "Ingress": "ing",
    "Job": "job",
    "Namespace": "ns",
    "NetworkPolicy": "netpol",
    "PersistentVolumeClaim": "pvc",
    "Pod": "pod",
    "PodDisruptionBudget": "pdb",
    "ReplicaSet": "rs",
    "Role": "role",
    "RoleBinding": "rb",
    "ClusterRole": "crole",
    "ClusterRoleBinding": "crb",
    "Secret": "secret",
    "Service": "svc",
    "ServiceAccount": "sa",
    "StatefulSet": "sts",
}
"""A node's badge; other kinds show their initials."""

SHORT_NAME = 19
"""Characters of a name a node has room for; longer ones lose their middle, because generated
names differ at the end (``web-596556dd5f-5vpd6``) and chosen ones at the start."""

Key = tuple[str, str, str, str]
"""group, kind, namespace, name: what names a resource in a tree."""


def node_param(key: Key) -> str:
    """A resource as the page's ``node`` query parameter: ``group/kind/namespace/name``."""
    return "/".join(key)


def parse_node_param(value: str) -> Key | None:
    """The resource a ``node`` parameter names, or ``None`` when it names none."""
    parts = value.split("/")
    if len(parts) != 4 or not parts[1] or not parts[3]:
        return None
    group, kind, namespace, name = parts
    return group, kind, namespace, name


def abbreviation(kind: str) -> str:
    """The short badge of a kind."""
    return ABBREVIATIONS.get(kind) or "".join(c for c in kind if c.isupper()).lower() or kind[:3]


@dataclasses.dataclass(frozen=True)
class GraphNode:
    """One node: the app itself, a resource, or a group of quiet sibling resources."""

    id: str
    role: str
    """``app`` (the root), ``resource`` or ``group``."""
    group: str
    version: str
    kind: str
    namespace: str
    name: str
    health: str
    """Empty when the kind has no health check."""
    health_message: str
    sync: str
    """Empty for live children: only managed resources have a sync status."""
    parents: tuple[str, ...]
    """Ids of the nodes it hangs from (a group's members hang from the group)."""
    depth: int
    href: str = ""
    """Where a child Application's own page is."""
    uid: str = ""
    created_at: str = ""
    info: tuple[tuple[str, str], ...] = ()
    images: tuple[str, ...] = ()
    in_group: str = ""
    """The id of the group node that holds it while collapsed."""
    count: int = 0
    """A group's number of members."""
    group_key: str = ""
    """A group's stable name (its parent and kind), so an expanded group stays so on reload."""

    @property
    def key(self) -> Key:
        """The resource this node is."""
        return self.group, self.kind, self.namespace, self.name

    @property
    def param(self) -> str:
        """The page's ``node`` parameter selecting this resource."""
        return node_param(self.key)

    @property
    def managed(self) -> bool:
        """Whether the app manages it (a managed resource has a sync status)."""
        return bool(self.sync)

    @property
    def abbreviation(self) -> str:
        """The badge the node shows."""
        return abbreviation(self.kind)

    @property
    def short_name(self) -> str:
        """The name as the node has room for it (the whole name when it fits)."""
        if len(self.name) <= SHORT_NAME:
            return self.name
        head = (SHORT_NAME - 1) // 3
        return self.name[:head] + "…" + self.name[-(SHORT_NAME - 1 - head) :]


@dataclasses.dataclass(frozen=True)
class Graph:
    """Nodes in depth-first order (the app first, a group just before its members) and edges."""

    nodes: tuple[GraphNode, ...]

    @property
    def resources(self) -> tuple[GraphNode, ...]:
        """Every resource node, for the list view (no root, no groups)."""
        return tuple(n for n in self.nodes if n.role == "resource")

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """(parent id, child id) pairs."""
        return tuple((parent, n.id) for n in self.nodes for parent in n.parents)

    def find(self, key: Key) -> GraphNode | None:
        """The resource node for ``key``."""
        return next((n for n in self.resources if n.key == key), None)


def _key_of(ref: Mapping[str, Any]) -> Key:
    return (
        str(ref.get("group") or ""),
        str(ref.get("kind") or ""),
        str(ref.get("namespace") or ""),
        str(ref.get("name") or ""),
    )


def _health(entry: Mapping[str, Any]) -> tuple[str, str]:
    health = entry.get("health")
    if not isinstance(health, Mapping):
        return "", ""
    return str(health.get("status") or ""), str(health.get("message") or "")


def app_href(namespace: str, name: str) -> str:
    """An Application's page."""
    return f"/applications/{quote(namespace, safe='')}/{quote(name, safe='')}"


@dataclasses.dataclass
class _Draft:
    key: Key
    version: str
    health: str
    health_message: str
    sync: str
    uid: str = ""
    created_at: str = ""
    info: tuple[tuple[str, str], ...] = ()
    images: tuple[str, ...] = ()
    parents: list[Key] = dataclasses.field(default_factory=list)
    children: list[Key] = dataclasses.field(default_factory=list)


def _drafts(
    tree_nodes: Sequence[Mapping[str, Any]], managed: Mapping[Key, Mapping[str, Any]]
) -> dict[Key, _Draft]:
    drafts: dict[Key, _Draft] = {}
    for entry in tree_nodes:
        key = _key_of(entry)
        if key in drafts or not key[1] or not key[3]:
            continue
        status = managed.get(key, {})
        health, message = _health(entry)
        if not health:
            health, message = _health(status)
        drafts[key] = _Draft(
            key=key,
            version=str(entry.get("version") or ""),
            health=health,
            health_message=message,
            sync=str(status.get("status") or "Unknown") if key in managed else "",
            uid=str(entry.get("uid") or ""),
            created_at=str(entry.get("createdAt") or ""),
            info=tuple(
                (str(i.get("name") or ""), str(i.get("value") or ""))
                for i in entry.get("info") or []
                if isinstance(i, Mapping)
            ),
            images=tuple(str(i) for i in entry.get("images") or []),
            parents=[_key_of(p) for p in entry.get("parentRefs") or [] if isinstance(p, Mapping)],
        )
    for key, status in managed.items():
        if key not in drafts:
            # Managed but not in the live tree (Missing, or of a kind the cache does not watch):
            # the status still names it, with the health the controller gave it.
            health, message = _health(status)
            drafts[key] = _Draft(
                key=key,
                version=str(status.get("version") or ""),
                health=health,
                health_message=message,
                sync=str(status.get("status") or "Unknown"),
            )
    for key, draft in drafts.items():
        draft.parents = [p for p in dict.fromkeys(draft.parents) if p in drafts and p != key]
        for parent in draft.parents:
            drafts[parent].children.append(key)
    return drafts


def _managed(status_resources: Iterable[Any]) -> dict[Key, Mapping[str, Any]]:
    return {
        _key_of(entry): entry
        for entry in status_resources
        if isinstance(entry, Mapping) and not entry.get("hook") and entry.get("kind")
    }


def _quiet(draft: _Draft) -> bool:
    return (
        not draft.children
        and len(draft.parents) <= 1
        and draft.health in QUIET_HEALTH
        and draft.sync in QUIET_SYNC
        and (draft.key[0], draft.key[1]) not in NEVER_GROUPED
    )


def build(
    app: Mapping[str, Any],
    tree: Mapping[str, Any],
    status_resources: Iterable[Any] = (),
    *,
    group_above: int = GROUP_ABOVE,
) -> Graph:
    """The graph of an app.

    Args:
        app: the app itself: ``name``, ``namespace``, ``health``, ``health_message``, ``sync``
            (the root node).
        tree: the API's ``ApplicationTree`` (``nodes`` with ``parentRefs``).
        status_resources: the app's ``status.resources`` (sync per managed resource).
        group_above: siblings of one kind beyond which quiet leaves are grouped.
    """
    entries = [n for n in tree.get("nodes") or [] if isinstance(n, Mapping)]
    drafts = _drafts(entries, _managed(status_resources))
    root = GraphNode(
        id="n0",
        role="app",
        group="argoproj.io",
        version="v1alpha1",
        kind="Application",
        namespace=str(app.get("namespace") or ""),
        name=str(app.get("name") or ""),
        health=str(app.get("health") or ""),
        health_message=str(app.get("health_message") or ""),
        sync=str(app.get("sync") or ""),
        parents=(),
        depth=0,
    )
    builder = _Builder(drafts, group_above, [root])
    builder.visit(
        root.id, "", sorted((k for k, d in drafts.items() if not d.parents), key=_order), 1
    )
    # Objects only reachable through an ownership cycle still show, under the app.
    builder.visit(root.id, "", sorted((k for k in drafts if k not in builder.ids), key=_order), 1)
    return Graph(nodes=tuple(builder.out))


def _order(key: Key) -> tuple[str, str, str, str]:
    group, kind, namespace, name = key
    return kind, name, namespace, group


@dataclasses.dataclass
class _Builder:
    drafts: Mapping[Key, _Draft]
    group_above: int
    out: list[GraphNode]
    ids: dict[Key, str] = dataclasses.field(default_factory=dict)
    position: dict[str, int] = dataclasses.field(default_factory=dict)
    groups: int = 0

    def visit(self, parent_id: str, parent_param: str, children: Sequence[Key], depth: int) -> None:
        """Emit ``children`` of one parent (grouping quiet leaves), then their own children."""
        by_kind: dict[tuple[str, str], list[Key]] = {}
        for key in children:
            if key not in self.ids and _quiet(self.drafts[key]):
                by_kind.setdefault((key[0], key[1]), []).append(key)
        for key in children:
            members = by_kind.get((key[0], key[1]), [])
            if len(members) > self.group_above and key in members:
                if key == members[0]:
                    self._group(parent_id, parent_param, members, depth)
                continue
            if key in self.ids:
                self._add_parent(self.ids[key], parent_id)
                continue
            self._emit(key, depth, (parent_id,))
            self.visit(self.ids[key], node_param(key), self.drafts[key].children, depth + 1)

    def _add_parent(self, node_id: str, parent_id: str) -> None:
        # Met again through a second owner: one node, one more edge.
        at = self.position[node_id]
        node = self.out[at]
        if parent_id not in node.parents:
            self.out[at] = dataclasses.replace(node, parents=(*node.parents, parent_id))

    def _group(self, parent_id: str, parent_param: str, members: list[Key], depth: int) -> None:
        self.groups += 1
        group_id = f"g{self.groups}"
        first = self.drafts[members[0]]
        group, kind = first.key[0], first.key[1]
        self._append(
            GraphNode(
                id=group_id,
                role="group",
                group=group,
                version=first.version,
                kind=kind,
                namespace=_common(self.drafts[m].key[2] for m in members),
                name="",
                health=_common(self.drafts[m].health for m in members),
                health_message="",
                sync=_common(self.drafts[m].sync for m in members),
                parents=(parent_id,),
                depth=depth,
                count=len(members),
                group_key=f"{parent_param}>{group}/{kind}",
            )
        )
        for member in members:
            self._emit(member, depth + 1, (group_id,), in_group=group_id)

    def _emit(self, key: Key, depth: int, parents: tuple[str, ...], in_group: str = "") -> None:
        draft = self.drafts[key]
        node_id = f"n{len(self.ids) + 1}"
        self.ids[key] = node_id
        group, kind, namespace, name = key
        is_app = (group, kind) == ("argoproj.io", "Application")
        self._append(
            GraphNode(
                id=node_id,
                role="resource",
                group=group,
                version=draft.version,
                kind=kind,
                namespace=namespace,
                name=name,
                health=draft.health,
                health_message=draft.health_message,
                sync=draft.sync,
                parents=parents,
                depth=depth,
                href=app_href(namespace, name) if is_app and namespace else "",
                uid=draft.uid,
                created_at=draft.created_at,
                info=draft.info,
                images=draft.images,
                in_group=in_group,
            )
        )

    def _append(self, node: GraphNode) -> None:
        self.position[node.id] = len(self.out)
        self.out.append(node)


def _common(values: Iterable[str]) -> str:
    found = set(values)
    return found.pop() if len(found) == 1 else ""
