"""Client-side apply migration: the fields client-side appliers own move to tether's apply manager.

A field set by ``kubectl apply`` (or by Argo CD syncing client-side) is owned by that client's
``Update`` entry in ``managedFields``. tether's server-side apply only removes fields its own
``Apply`` entry owns, so a field removed from Git would stay forever, owned by the old client.
Before the first server-side apply, the client's entry is merged into tether's (Kubernetes'
``csaupgrade.UpgradeManagedFields``, which kubectl and Argo CD call): from then on a field removed
from Git is removed by the next apply.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tether.core.sync.clientside import KUBECTL_MANAGER, LAST_APPLIED
from tether.model.resources import Manifest, metadata_of

LAST_APPLIED_FIELD = f"f:{LAST_APPLIED}"
"""The ``fieldsV1`` key of the last-applied annotation below ``f:metadata.f:annotations``."""


def client_side_managers(live: Manifest, named: str = KUBECTL_MANAGER) -> frozenset[str]:
    """The managers of ``live`` whose fields tether's server-side apply takes over.

    ``Update`` entries of the manager ``named`` (Argo CD's ``ClientSideApplyMigration``, which
    names ``kubectl-client-side-apply`` unless the Application's annotation names another) and
    of any manager that wrote the last-applied annotation: only a client-side apply writes it
    (kubectl's own rule, which covers Argo CD's ``argocd-controller`` syncing client-side,
    ``kubectl apply --field-manager`` and tether's own client-side writes).
    """
    found = set()
    for entry in _entries(live):
        manager = str(entry.get("manager", ""))
        if _is_entry(entry, manager, "Update") and (manager == named or _owns_last_applied(entry)):
            found.add(manager)
    return frozenset(found)


def _owns_last_applied(entry: Mapping[str, Any]) -> bool:
    fields = entry.get("fieldsV1") or {}
    annotations = (fields.get("f:metadata") or {}).get("f:annotations") or {}
    return isinstance(annotations, Mapping) and LAST_APPLIED_FIELD in annotations


def migrated(
    entries: Sequence[Mapping[str, Any]], managers: Collection[str], apply_manager: str
) -> list[dict[str, Any]] | None:
    """``managedFields`` with ``managers``' ``Update`` entries merged into ``apply_manager``'s.

    ``None`` when there is nothing to migrate.

    As ``csaupgrade``: without an ``Apply`` entry, the first (newest) client entry becomes it;
    entries are merged only at the same ``apiVersion`` (field paths differ between versions),
    and every client ``Update`` entry is dropped.
    """
    out = [dict(entry) for entry in entries]
    changed = False
    for manager in sorted(managers):
        clients = [i for i, e in enumerate(out) if _is_entry(e, manager, "Update")]
        if not clients:
            continue
        appliers = [i for i, e in enumerate(out) if _is_entry(e, apply_manager, "Apply")]
        if appliers:
            target = appliers[0]
        else:
            target = clients.pop(0)
            out[target] = {**out[target], "manager": apply_manager, "operation": "Apply"}
        version = out[target].get("apiVersion")
        same_version = [i for i in clients if out[i].get("apiVersion") == version]
        if same_version:
            source = out[same_version[0]].get("fieldsV1") or {}
            fields = union(out[target].get("fieldsV1") or {}, source)
            out[target] = {**out[target], "fieldsV1": fields}
        out = [entry for i, entry in enumerate(out) if i not in clients]
        changed = True
    return out if changed else None


def patch(
    live: Manifest, apply_manager: str, named: str = KUBECTL_MANAGER
) -> list[dict[str, Any]] | None:
    """The JSON patch that migrates ``live`` (``client_side_managers``), or ``None``.

    It also writes the ``resourceVersion`` read, so the API server refuses it with a conflict
    when the object changed meanwhile (``csaupgrade.UpgradeManagedFieldsPatch``).
    """
    entries = migrated(_entries(live), client_side_managers(live, named), apply_manager)
    if entries is None:
        return None
    version = str(metadata_of(live).get("resourceVersion", ""))
    return [
        {"op": "replace", "path": "/metadata/managedFields", "value": entries},
        {"op": "replace", "path": "/metadata/resourceVersion", "value": version},
    ]


def union(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """The union of two ``fieldsV1`` tries.

    An empty node is a leaf, a node in the set; merged with children it keeps its membership as
    the ``.`` key, as the API server writes it.
    """
    return _union(first, second, top=True)


def _union(first: Mapping[str, Any], second: Mapping[str, Any], *, top: bool) -> dict[str, Any]:
    member = not top and (not first or not second or "." in first or "." in second)
    out: dict[str, Any] = {}
    for key in [*first, *(k for k in second if k not in first)]:
        if key == ".":
            continue
        if key in first and key in second:
            out[key] = _union(first[key], second[key], top=False)
        else:
            out[key] = json.loads(json.dumps(first.get(key, second.get(key))))
    if member and out:
        out = {".": {}, **out}
    return out


def _entries(obj: Manifest) -> list[Mapping[str, Any]]:
    entries = metadata_of(obj).get("managedFields")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, Mapping)]


def _is_entry(entry: Mapping[str, Any], manager: str, operation: str) -> bool:
    """Whether ``entry`` is ``manager``'s for ``operation`` on the object itself."""
    return (
        entry.get("manager") == manager
        and entry.get("operation") == operation
        and not entry.get("subresource")
    )
