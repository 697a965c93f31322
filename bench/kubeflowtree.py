"""S8's Kubeflow root as a converged tether would leave it, without converging Kubeflow.

The distribution's root Application, its AppProject and its 27 children (``distributions/
kubeflow``); each child rendered by tether's own manifest service from the corpus (683 objects,
as S4), placed in its destination namespace and stamped with tether's tracking
(``tracking.stamp``), then server-side applied in tether's kind order (CRDs first). The
children's and the root's ``status`` are what a sync would leave: every resource Synced, each
one's health judged by tether's rules on the live object, the app's health aggregated by
``health.aggregate``. No controller runs: the status is written once, by the bench.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from bench import env
from tether import bootstrap
from tether.adapters.kube.client import KubeClient
from tether.core import health
from tether.core.diff import tracking
from tether.core.sources.rendered import RenderFailed
from tether.core.sync import ordering
from tether.model.app_status import ResourceStatus
from tether.model.application import Application, parse_application
from tether.model.resources import kind_of, metadata_of, split_api_version
from tether.model.status import SyncStatus
from tether.settings import Settings

DISTRIBUTION = pathlib.Path(__file__).resolve().parent.parent / "distributions" / "kubeflow"
ROOT = "kubeflow"
REVISION = "009c88084074904c7743384ff50d3bd70012ef55"
"""The corpus's commit: what every child's targetRevision names, so what its sync recorded."""
APPLY_CONCURRENCY = 10
FIRST_KINDS = ("Namespace", "CustomResourceDefinition")
"""Applied and waited for before anything else: every custom resource needs its kind served,
and namespaced objects their namespace (tether's sync orders them the same way)."""


@dataclasses.dataclass
class Child:
    """One child Application and the objects its sync left in the cluster."""

    manifest: dict[str, Any]
    app: Application
    objects: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        """The child's name."""
        return self.app.name


@dataclasses.dataclass
class KubeflowTree:
    """The root, its project and its children, as created."""

    root: dict[str, Any]
    project: dict[str, Any]
    children: list[Child]

    @property
    def objects(self) -> int:
        """Objects the children manage together (683 for the whole distribution)."""
        return sum(len(child.objects) for child in self.children)

    def biggest(self) -> Child:
        """The child with the most objects (pipelines: 133)."""
        return max(self.children, key=lambda child: len(child.objects))


def _documents(path: pathlib.Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def read_distribution() -> tuple[dict[str, Any], dict[str, Any], list[Child]]:
    """The root, the AppProject and the child Applications, as the repository holds them."""
    (root,) = _documents(DISTRIBUTION / "root.yaml")
    project: dict[str, Any] = {}
    children: list[Child] = []
    for path in sorted((DISTRIBUTION / "apps").rglob("*.yaml")):
        for doc in _documents(path):
            if doc.get("kind") == "AppProject":
                project = doc
            elif doc.get("kind") == "Application":
                children.append(Child(doc, parse_application(doc)))
    return root, project, children


async def _render(children: Sequence[Child]) -> list[list[dict[str, Any]]]:
    svc = bootstrap.manifest_service_for_directory(env.CORPUS)
    rendered: list[list[dict[str, Any]]] = []
    for child in children:
        result = await svc.render_application(child.app)
        if isinstance(result, RenderFailed):
            raise RuntimeError(f"{child.name}: {result.message}")
        rendered.append([dict(obj) for obj in result.manifests])
    return rendered


async def _place(kube: KubeClient, obj: Mapping[str, Any], destination: str) -> dict[str, Any]:
    """The object in its namespace, as tether's comparison places it before applying."""
    res = await kube.discovery.resource(str(obj.get("apiVersion", "")), kind_of(obj))
    meta = dict(metadata_of(obj))
    if res.namespaced and not meta.get("namespace") and destination:
        meta["namespace"] = destination
    elif not res.namespaced:
        meta.pop("namespace", None)
    return {**obj, "metadata": meta}


async def _apply_all(kube: KubeClient, objects: Sequence[Mapping[str, Any]]) -> None:
    manager = Settings().field_manager
    ordered = sorted(objects, key=lambda o: ordering.kind_rank(kind_of(o)))
    for rank in sorted({ordering.kind_rank(kind_of(o)) for o in ordered}):
        await env.bounded(
            APPLY_CONCURRENCY,
            [
                kube.apply(o, field_manager=manager)
                for o in ordered
                if ordering.kind_rank(kind_of(o)) == rank
            ],
        )


async def _wait_served(kube: KubeClient, objects: Sequence[Mapping[str, Any]]) -> None:
    """Until discovery serves every kind in ``objects`` (a new CRD's kind takes a moment)."""
    wanted = {(*split_api_version(str(o.get("apiVersion", ""))), kind_of(o)) for o in objects}

    async def all_served() -> bool:
        return not (wanted - set((await kube.discovery.refresh()).resources))

    await env.eventually(all_served, 120, "the Kubeflow CRDs' kinds served")


async def create(kube: KubeClient) -> KubeflowTree:
    """Render, place, stamp and apply every child's objects, then the project, children, root."""
    root, project, children = read_distribution()
    rendered = await _render(children)
    first: list[dict[str, Any]] = []
    for child, objects in zip(children, rendered, strict=True):
        destination = child.app.spec.destination.namespace or ""
        early = [o for o in objects if kind_of(o) in FIRST_KINDS]
        placed = [await _place(kube, o, destination) for o in early]
        child.objects = tracking.stamp(placed, child.name, destination)
        first.extend(child.objects)
    await _apply_all(kube, first)
    await _wait_served(kube, [o for objects in rendered for o in objects])
    rest: list[dict[str, Any]] = []
    for child, objects in zip(children, rendered, strict=True):
        destination = child.app.spec.destination.namespace or ""
        late = [o for o in objects if kind_of(o) not in FIRST_KINDS]
        placed = [await _place(kube, o, destination) for o in late]
        stamped = tracking.stamp(placed, child.name, destination)
        child.objects.extend(stamped)
        rest.extend(stamped)
    await _apply_all(kube, rest)
    root_namespace = str(root["spec"]["destination"]["namespace"])
    project, *manifests = tracking.stamp(
        [project, *(c.manifest for c in children)], ROOT, root_namespace
    )
    await _apply_all(kube, [project, *manifests])
    for child, manifest in zip(children, manifests, strict=True):
        child.manifest = manifest
    await kube.apply(root, field_manager=Settings().field_manager)
    return KubeflowTree(root, project, children)


async def _live(kube: KubeClient, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    meta = metadata_of(obj)
    return await kube.get(
        str(obj["apiVersion"]), kind_of(obj), str(meta["name"]), str(meta.get("namespace") or "")
    )


def _entry_order(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(entry.get(f, "")) for f in ("group", "kind", "namespace", "name"))


async def _status(
    kube: KubeClient,
    app: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
    source_type: str,
    now: str,
) -> dict[str, Any]:
    """What a successful sync of ``objects`` leaves in ``app``'s status, judged on live state."""
    lives = await env.bounded(APPLY_CONCURRENCY, [_live(kube, o) for o in objects])
    inputs = [
        health.ResourceHealthInput.assessed(desired, live)
        for desired, live in zip(objects, lives, strict=True)
    ]
    entries = [
        ResourceStatus(
            key=entry.key,
            version=split_api_version(str(desired["apiVersion"]))[1],
            status=SyncStatus.SYNCED,
            sync_wave=ordering.wave_of(desired),
            health=entry.health,
        ).to_json()
        for desired, entry in zip(objects, inputs, strict=True)
    ]
    verdict = health.aggregate(inputs)
    spec = app["spec"]
    return {
        "sync": {
            "status": SyncStatus.SYNCED.value,
            "revision": REVISION,
            "comparedTo": {"source": spec["source"], "destination": spec["destination"]},
        },
        "health": {"status": verdict.status.value, "message": verdict.message},
        "resources": sorted(entries, key=_entry_order),
        "reconciledAt": now,
        "sourceType": source_type,
        "operationState": {
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "startedAt": now,
            "finishedAt": now,
            "operation": {"sync": {"revision": REVISION}},
            "syncResult": {"revision": REVISION},
        },
    }


async def write_statuses(kube: KubeClient, tree: KubeflowTree) -> None:
    """Each child's status from its live objects, then the root's from its live children."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for child in tree.children:
        status = await _status(kube, child.manifest, child.objects, "Kustomize", now)
        await kube.patch(
            str(child.manifest["apiVersion"]),
            "Application",
            child.name,
            env.APP_NAMESPACE,
            patch={"status": status},
        )
    managed = [tree.project, *(child.manifest for child in tree.children)]
    status = await _status(kube, tree.root, managed, "Directory", now)
    api_version = str(tree.root["apiVersion"])
    await kube.patch(api_version, "Application", ROOT, env.APP_NAMESPACE, patch={"status": status})
