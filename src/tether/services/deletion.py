"""Cascade deletion of an Application's resources, driven by Argo CD's finalizers.

With ``resources-finalizer.argocd.argoproj.io`` (foreground, or its ``/background`` form) the
managed resources are deleted, highest sync wave first, before the finalizer is removed. Without
it the resources stay. CRDs, the app's own Application, ``Delete=false`` and Helm's
``resource-policy: keep`` are never deleted; ``Delete=confirm`` ones wait for an approval
(``tether app confirm-deletion``), and the Application with them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tether import ports
from tether.core.app import policy
from tether.core.diff import diff
from tether.core.sync import options as sync_options
from tether.model import timestamps
from tether.model.application import CASCADE_FINALIZERS, GROUP, KIND, Application
from tether.model.clusters import ClusterEntry
from tether.model.project import AppProject
from tether.model.resources import Manifest, ResourceKey, annotation, metadata_of
from tether.services.appwriter import AppWriter

log = logging.getLogger(__name__)

NEVER_DELETED_KINDS = frozenset(
    {
        # CRDs carry no tracking and deleting one deletes every instance cluster-wide.
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
    }
)

WAIT_S = 1.0
"""How soon to look again while resources are still going away."""

CONFIRM_WAIT_S = 5.0
"""How soon to look again while ``Delete=confirm`` resources wait for an approval (the
approval's annotation also wakes the app at once)."""


def _delete_mode(obj: Manifest) -> sync_options.DeleteMode:
    """``Delete=`` of a managed object; Helm's ``resource-policy: keep`` counts as false.

    An annotation that does not parse keeps the object: what it meant is unknown, and unknown
    is never a reason to delete.
    """
    if annotation(obj, "helm.sh/resource-policy") == "keep":
        return sync_options.DeleteMode.DISABLED
    parsed = sync_options.of(obj)
    if isinstance(parsed, sync_options.OptionError):
        return sync_options.DeleteMode.DISABLED
    return parsed.delete or sync_options.DeleteMode.ENABLED


def _approved(app: Application) -> bool:
    """Whether ``Delete=confirm`` deletions were approved after this deletion began."""
    approved = app.deletion_approved_at
    began = timestamps.parse(app.metadata.deletion_timestamp)
    return approved is not None and (began is None or approved >= began)


async def finalize(
    cluster: ports.Cluster,
    live: ports.LiveState,
    apps: AppWriter,
    app: Application,
    project: AppProject,
    control_plane_namespace: str,
    *,
    destination: ClusterEntry,
) -> float | None:
    """Take one step of deleting ``app``; seconds until the next step, ``None`` when done.

    ``cluster`` and ``live`` reach the app's ``destination``; ``apps`` writes the Application
    itself, which lives in the control cluster.

    Only what the app's project permits is deleted: an object carrying the app's tracking in a
    namespace or of a kind beyond the project is left alone.
    """
    finalizers = list(app.metadata.finalizers or [])
    ours = [f for f in finalizers if f in CASCADE_FINALIZERS]
    if not ours:
        return None  # not ours to finish; Kubernetes deletes the app when others are done
    propagation = CASCADE_FINALIZERS[ours[0]]
    instance = app.app_instance_name(control_plane_namespace)
    own_key = ResourceKey(GROUP, KIND, app.namespace, app.name)
    candidates: list[tuple[ResourceKey, Mapping[str, Any]]] = []
    unconfirmed: list[ResourceKey] = []
    approved = _approved(app)
    for key in live.managed_by(instance):
        obj = live.manifest(key)
        if obj is None or key == own_key or (key.group, key.kind) in NEVER_DELETED_KINDS:
            continue
        mode = _delete_mode(obj)
        if mode is sync_options.DeleteMode.DISABLED or policy.resource_problem(
            project, key, cluster=destination
        ):
            continue
        if mode is sync_options.DeleteMode.CONFIRM and not approved:
            unconfirmed.append(key)
            continue
        candidates.append((key, obj))
    if any(metadata_of(obj).get("deletionTimestamp") for _, obj in candidates):
        return WAIT_S
    if candidates:
        top = max(diff.sync_wave(obj) for _, obj in candidates)
        await _delete_all(
            cluster, [(k, o) for k, o in candidates if diff.sync_wave(o) == top], propagation
        )
        return WAIT_S
    if unconfirmed:
        # Argo CD's Delete=confirm: the Application stays until someone approves.
        log.info(
            "%s: waiting for deletion confirmation of %d resources (first %s): "
            "tether app confirm-deletion %s",
            app.qualified_name,
            len(unconfirmed),
            unconfirmed[0],
            app.name,
        )
        return CONFIRM_WAIT_S
    await apps.set_finalizers(app, [f for f in finalizers if f not in CASCADE_FINALIZERS])
    return None


async def _delete_all(
    cluster: ports.Cluster,
    items: Sequence[tuple[ResourceKey, Mapping[str, Any]]],
    propagation: str,
) -> None:
    for key, obj in items:
        await cluster.delete(
            str(obj.get("apiVersion", "")),
            key.kind,
            key.name,
            key.namespace,
            propagation=propagation,
        )
