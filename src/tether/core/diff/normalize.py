"""Normalisation of live, desired and predicted objects before they are compared.

Strips what the server owns, folds equivalent spellings into one and applies the known quirks
table, so that only differences a person could act on remain. Every function returns a new object.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
from collections.abc import Callable, Mapping
from typing import Any

from tether.model.resources import GroupKind, Manifest, MutableManifest, group_of, kind_of

CRD = GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")


class StatusField(enum.Enum):
    """Which objects lose ``status`` before comparison (argocd-cm ``ignoreResourceStatusField``)."""

    ALL = "all"
    """Argo CD's default: status is written by controllers, never by Git."""
    CRD = "crd"
    """Only CustomResourceDefinitions: for CRs whose status is part of the desired state."""
    NONE = "none"
    """Compare status everywhere (rarely useful; Argo keeps it for compatibility)."""


@dataclasses.dataclass(frozen=True)
class NormalizeOptions:
    """How to normalise; the defaults are Argo CD's."""

    status_field: StatusField = StatusField.ALL
    ignore_aggregated_roles: bool = False
    """``resource.compareoptions.ignoreAggregatedRoles``: aggregated roles get rules elsewhere."""


DEFAULT_OPTIONS = NormalizeOptions()

SERVER_OWNED_METADATA: dict[str, str] = {
    "managedFields": "field ownership bookkeeping of server-side apply, never in Git",
    "resourceVersion": "optimistic-concurrency token, changes on every write",
    "generation": "bumped by the server on every spec change",
    "uid": "assigned by the server at creation",
    "creationTimestamp": "assigned by the server at creation",
    "selfLink": "deprecated, derived from the URL",
    "deletionTimestamp": "set by the server when deletion starts",
    "deletionGracePeriodSeconds": "set by the server when deletion starts",
}
"""``metadata`` fields the API server writes; no manifest sets them, so they are never drift."""

SERVER_OWNED_ANNOTATIONS: dict[str, str] = {
    "kubectl.kubernetes.io/last-applied-configuration": (
        "client-side apply's copy of the previous manifest, echoes the object itself"
    ),
    "deployment.kubernetes.io/revision": "rollout counter the Deployment controller maintains",
}
"""Annotations written by clients or controllers on the object's behalf."""

ROLE_KINDS = frozenset(
    {
        GroupKind("rbac.authorization.k8s.io", "Role"),
        GroupKind("rbac.authorization.k8s.io", "ClusterRole"),
    }
)
SECRET = GroupKind("", "Secret")

POD_SPEC_PATHS: dict[GroupKind, tuple[str, ...]] = {
    # Where each workload kind keeps its PodSpec, for the container-port quirk below.
    GroupKind("", "Pod"): ("spec",),
    GroupKind("", "ReplicationController"): ("spec", "template", "spec"),
    GroupKind("apps", "Deployment"): ("spec", "template", "spec"),
    GroupKind("apps", "StatefulSet"): ("spec", "template", "spec"),
    GroupKind("apps", "DaemonSet"): ("spec", "template", "spec"),
    GroupKind("apps", "ReplicaSet"): ("spec", "template", "spec"),
    GroupKind("batch", "Job"): ("spec", "template", "spec"),
    GroupKind("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}


def _default_protocol(ports: Any) -> None:
    if isinstance(ports, list):
        for port in ports:
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"


def _service_ports(obj: MutableManifest) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    ports = spec.get("ports")
    _default_protocol(ports)
    for port in ports if isinstance(ports, list) else []:
        if isinstance(port, dict) and "port" in port and port.get("targetPort") in (None, ""):
            port["targetPort"] = port["port"]


def _endpoints(obj: MutableManifest) -> None:
    subsets = obj.get("subsets")
    if not isinstance(subsets, list):
        return
    for subset in subsets:
        if isinstance(subset, dict):
            _default_protocol(subset.get("ports"))
    # The endpoints controller writes subsets in its own order; order carries no meaning.
    subsets.sort(key=_canonical)


def _container_ports(obj: MutableManifest) -> None:
    pod_spec: Any = obj
    for step in POD_SPEC_PATHS[GroupKind(group_of(obj), kind_of(obj))]:
        pod_spec = pod_spec.get(step) if isinstance(pod_spec, dict) else None
    if not isinstance(pod_spec, dict):
        return
    for field in ("containers", "initContainers", "ephemeralContainers"):
        containers = pod_spec.get(field)
        if isinstance(containers, list):
            for container in containers:
                if isinstance(container, dict):
                    _default_protocol(container.get("ports"))


def _empty_role_rules(obj: MutableManifest) -> None:
    if obj.get("rules") in ([], None):
        obj.pop("rules", None)


Quirk = Callable[[MutableManifest], None]

KNOWN_QUIRKS: dict[GroupKind, tuple[tuple[Quirk, str], ...]] = {
    GroupKind("", "Service"): (
        (_service_ports, "the server defaults ports[].protocol to TCP and targetPort to port"),
    ),
    GroupKind("", "Endpoints"): (
        (_endpoints, "ports default to TCP and the controller reorders subsets"),
    ),
    **dict.fromkeys(
        POD_SPEC_PATHS,
        ((_container_ports, "the server defaults containers[].ports[].protocol to TCP"),),
    ),
    **dict.fromkeys(
        ROLE_KINDS,
        ((_empty_role_rules, "the server drops `rules: []`, so empty and absent are equal"),),
    ),
}
"""Per-kind rewrites that make two spellings of the same object equal, with the reason."""


def normalize(obj: Manifest, options: NormalizeOptions = DEFAULT_OPTIONS) -> MutableManifest:
    """Return a normalised deep copy of ``obj`` (idempotent: normalising twice changes nothing).

    Args:
        obj: a live, desired or predicted object.
        options: which optional rules apply.

    Returns:
        A new object without server-owned fields, with Secret ``stringData`` folded into ``data``
        and the kind's known quirks applied.
    """
    out = copy_manifest(obj)
    gk = GroupKind(group_of(out), kind_of(out))
    if _drops_status(gk, options.status_field):
        out.pop("status", None)
    _normalize_metadata(out)
    if gk == SECRET:
        _fold_string_data(out)
    for quirk, _reason in KNOWN_QUIRKS.get(gk, ()):
        quirk(out)
    if gk in ROLE_KINDS and options.ignore_aggregated_roles and out.get("aggregationRule"):
        # The aggregation controller fills `rules` from other roles; Git cannot own them.
        out.pop("rules", None)
    return out


def _drops_status(gk: GroupKind, policy: StatusField) -> bool:
    if policy is StatusField.ALL:
        return True
    return policy is StatusField.CRD and gk == CRD


def _normalize_metadata(obj: MutableManifest) -> None:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return
    for field in SERVER_OWNED_METADATA:
        metadata.pop(field, None)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        for name in SERVER_OWNED_ANNOTATIONS:
            annotations.pop(name, None)
    for field in ("annotations", "labels"):
        # An empty map and an absent one are the same object to the server.
        if field in metadata and not metadata[field]:
            del metadata[field]


def with_string_data_folded(secret: Manifest) -> MutableManifest:
    """A copy of a Secret whose ``stringData`` is merged into ``data``.

    Server-side diff dry-runs this form: the server records ownership of ``stringData`` (a
    write-only field) rather than of the ``data`` keys it fills, so a dry run of the original
    would hide a changed value behind the ownership filter.
    """
    copy = copy_manifest(secret)
    _fold_string_data(copy)
    return copy


def _fold_string_data(secret: MutableManifest) -> None:
    """Merge ``stringData`` into base64 ``data``, as the API server does on write."""
    data = secret.get("data")
    merged: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, Mapping):
        for key, value in string_data.items():
            text = "" if value is None else str(value)
            merged[key] = base64.b64encode(text.encode()).decode()
    # A null value and an empty one are stored alike.
    merged = {key: value if value is not None else "" for key, value in merged.items()}
    if merged or "data" in secret:
        secret["data"] = merged
    if not secret.get("data"):
        secret.pop("data", None)


def _canonical(value: Any) -> str:
    """A stable sort key for JSON-like values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
"""Leaf types a copy can share: checking ``type`` first skips the slow ABC ``isinstance``."""


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON-like value (maps become dicts); several times faster than deepcopy."""
    kind = type(value)
    if kind is dict:
        return {
            key: item if type(item) in _IMMUTABLE else json_copy(item)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _IMMUTABLE else json_copy(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    if isinstance(value, Mapping):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_copy(item) for item in value]
    return value


def copy_manifest(obj: Manifest) -> MutableManifest:
    """A deep, mutable copy of one object."""
    return {key: item if type(item) in _IMMUTABLE else json_copy(item) for key, item in obj.items()}


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a value: sorted keys, no spaces; equal objects give equal text."""
    return _canonical(value)
