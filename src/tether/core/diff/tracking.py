"""Resource tracking: how an object says which Application manages it, written and read.

Argo CD's methods and formats: the ``argocd.argoproj.io/tracking-id`` annotation
(``<appInstance>:<group>/<kind>:<namespace>/<name>``), the instance label, or both.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping

from tether.core.diff import normalize
from tether.model.resources import (
    GroupKind,
    Manifest,
    MutableManifest,
    ResourceKey,
    annotation,
    group_of,
    kind_of,
    labels_of,
    name_of,
    namespace_of,
)

TRACKING_ID = "argocd.argoproj.io/tracking-id"
INSTALLATION_ID = "argocd.argoproj.io/installation-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
"""Argo CD's default ``application.instanceLabelKey``."""
LABEL_VALUE_MAX = 63
"""Kubernetes label values are at most 63 characters."""
CRD = GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
"""CRDs are never tracked: deleting an app must not delete every custom resource of the type."""


class TrackingMethod(enum.Enum):
    """argocd-cm ``application.resourceTrackingMethod``."""

    ANNOTATION = "annotation"
    LABEL = "label"
    ANNOTATION_AND_LABEL = "annotation+label"

    @property
    def uses_annotation(self) -> bool:
        """Whether the method writes and reads the tracking-id annotation."""
        return self is not TrackingMethod.LABEL


@dataclasses.dataclass(frozen=True)
class Tracking:
    """How this installation tracks resources."""

    method: TrackingMethod = TrackingMethod.ANNOTATION
    label_key: str = INSTANCE_LABEL
    installation_id: str = ""
    """When set, annotations from another installation (another id) are not ours."""


DEFAULT_TRACKING = Tracking()


def app_instance(app_name: str, app_namespace: str, control_plane_namespace: str) -> str:
    """The name tracking records: ``name``, or ``<namespace>_<name>`` outside the control plane."""
    if not app_namespace or app_namespace == control_plane_namespace:
        return app_name
    return f"{app_namespace}_{app_name}"


@dataclasses.dataclass(frozen=True)
class TrackingId:
    """A parsed tracking-id annotation."""

    app_instance: str
    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.app_instance}:{self.group}/{self.kind}:{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> TrackingId | None:
        """Parse ``app:group/kind:namespace/name``; ``None`` when it is not in that shape.

        Only the name may contain ``:`` (RBAC objects such as ``cert-manager-webhook:dynamic-
        serving``), so the text splits at its first two colons only.
        """
        parts = text.split(":", 2)
        if len(parts) != 3:
            return None
        app, group_kind, namespaced_name = parts
        group, slash_gk, kind = group_kind.partition("/")
        namespace, slash_nn, name = namespaced_name.partition("/")
        if not (app and slash_gk and slash_nn and kind and name):
            return None
        return cls(app, group, kind, namespace, name)

    @classmethod
    def of(cls, obj: Manifest, app_instance: str, destination_namespace: str) -> TrackingId:
        """The id ``obj`` should carry; cluster-scoped objects record the destination namespace."""
        return cls(
            app_instance,
            group_of(obj),
            kind_of(obj),
            namespace_of(obj) or destination_namespace,
            name_of(obj),
        )


def with_own_name(obj: Manifest) -> Manifest:
    """``obj`` with a tracking id that ends in its name, if the id was stamped without one.

    A hook with only ``generateName`` is stamped at comparison time, before the sync names it
    for the operation; created as it was, its id would name nothing (``app:batch/Job:ns/``),
    so the hook would never count as the app's and its sync would wait for it forever.
    """
    text = annotation(obj, TRACKING_ID)
    app, sep, rest = text.partition(":")
    name = name_of(obj)
    if not sep or not text.endswith("/") or not name:
        return obj
    group_kind, _, namespace = rest.rpartition(":")
    named = f"{app}:{group_kind}:{namespace}{name}"
    metadata = dict(obj.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), TRACKING_ID: named}
    return {**obj, "metadata": metadata}


def is_crd(obj: Manifest) -> bool:
    """Whether ``obj`` is a CustomResourceDefinition."""
    return GroupKind(group_of(obj), kind_of(obj)) == CRD


def app_name_of(obj: Manifest, tracking: Tracking = DEFAULT_TRACKING) -> str:
    """The app instance that ``obj`` says manages it, ``""`` when none does."""
    if not tracking.method.uses_annotation:
        return labels_of(obj).get(tracking.label_key, "") or ""
    if tracking.installation_id and annotation(obj, INSTALLATION_ID) != tracking.installation_id:
        return ""
    parsed = TrackingId.parse(annotation(obj, TRACKING_ID))
    return parsed.app_instance if parsed else ""


def is_self_referenced(
    live: Manifest, tracking: Tracking = DEFAULT_TRACKING, *, desired: Manifest | None = None
) -> bool:
    """Whether ``live`` is the object its tracking refers to.

    Guards against annotations another controller copied from a tracked object onto its own.
    With ``desired`` (Argo CD's best case) the expected id is built from it, so group migrations
    (``extensions`` to ``networking.k8s.io`` Ingress) pass when ``live`` was read at the desired
    version; without it, the live annotation is parsed. The label method always passes.
    """
    if not tracking.method.uses_annotation:
        return True
    if desired is not None:
        expected = TrackingId.of(desired, "", namespace_of(live))
    else:
        text = annotation(live, TRACKING_ID)
        if not text:
            return True  # Nothing copied: a live object without an id cannot refer elsewhere.
        parsed = TrackingId.parse(text)
        if parsed is None:
            return False
        expected = parsed
    live_namespace = namespace_of(live)
    return (
        expected.group == group_of(live)
        and expected.kind == kind_of(live)
        and expected.name == name_of(live)
        and (not live_namespace or expected.namespace == live_namespace)
    )


def _label_value(app: str, method: TrackingMethod) -> str:
    if method is TrackingMethod.LABEL:
        return app  # Argo CD writes the full name in label mode and lets the server reject it.
    value = app[:LABEL_VALUE_MAX]
    while value and not value[-1].isalnum():
        value = value[:-1]
    return value


def stamp(
    manifests: Iterable[Manifest],
    app: str,
    destination_namespace: str,
    tracking: Tracking = DEFAULT_TRACKING,
) -> list[MutableManifest]:
    """Return copies of ``manifests`` carrying tracking metadata for app instance ``app``.

    CRDs are copied unchanged. A stale installation-id is removed when none is configured.
    """
    out: list[MutableManifest] = []
    for manifest in manifests:
        obj: MutableManifest = normalize.copy_manifest(manifest)
        out.append(obj)
        if is_crd(obj):
            continue
        metadata = obj.setdefault("metadata", {})
        if tracking.method.uses_annotation:
            annotations = metadata.get("annotations") or {}
            annotations[TRACKING_ID] = str(TrackingId.of(obj, app, destination_namespace))
            if tracking.installation_id:
                annotations[INSTALLATION_ID] = tracking.installation_id
            else:
                annotations.pop(INSTALLATION_ID, None)
            metadata["annotations"] = annotations
        if tracking.method is not TrackingMethod.ANNOTATION:
            labels = metadata.get("labels") or {}
            labels[tracking.label_key] = _label_value(app, tracking.method)
            metadata["labels"] = labels
    return out


def normalize_live_tracking(
    live: Manifest, desired: Manifest, tracking: Tracking = DEFAULT_TRACKING
) -> Manifest:
    """Pre-diff: a live object tracked by label only gets ``desired``'s annotation.

    So switching an installation from the label to the annotation method does not make every
    resource OutOfSync. The label goes too when ``desired`` has none. Existing annotations stay.
    ``live`` itself comes back when nothing changes (the diff copies it anyway).
    """
    if not tracking.method.uses_annotation or is_crd(live):
        return live
    label = labels_of(live).get(tracking.label_key)
    wanted = annotation(desired, TRACKING_ID)
    if not label or annotation(live, TRACKING_ID) or not wanted:
        return live
    out: MutableManifest = normalize.copy_manifest(live)
    metadata = out.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    annotations[TRACKING_ID] = wanted
    metadata["annotations"] = annotations
    if tracking.label_key not in labels_of(desired):
        labels = dict(metadata.get("labels") or {})
        labels.pop(tracking.label_key, None)
        metadata["labels"] = labels
    return out


MAX_SHARED_NAMED = 20
"""Resources a SharedResourceWarning names one by one; more are counted."""


def shared_warnings(instance: str, shared: Mapping[ResourceKey, str]) -> list[tuple[str, str]]:
    """A ``SharedResourceWarning`` naming the resources another app also manages (Argo CD's).

    ``shared`` maps a resource to the other app (``""``: not shared).
    """
    claimed = sorted((key, other) for key, other in shared.items() if other)
    if not claimed:
        return []
    named = "; ".join(
        f"{key.kind}/{key.name} is part of applications {other} and {instance}"
        for key, other in claimed[:MAX_SHARED_NAMED]
    )
    more = len(claimed) - MAX_SHARED_NAMED
    return [("SharedResourceWarning", named + (f"; and {more} more" if more > 0 else ""))]
