"""A rendered template turned into the Application a set owns, and the checks that skip it.

Pure: the rendered template (already templated with one parameter set) and the set go in; the
Application manifest, or the reason it is invalid, comes out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tether.core.appsets import plan
from tether.model import application, applicationset
from tether.model.errors import InvalidInputError
from tether.model.project import DEFAULT_PROJECT_NAME

KEPT_ANNOTATION_PREFIXES = (
    # Annotations on generated apps a set never claims, whatever its template says.
    "notifications.argoproj.io/",  # users subscribe apps to notifications by hand
    "argocd.argoproj.io/refresh",  # a refresh asked for is the app controller's to clear
)


DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
"""What the API server accepts as a custom resource's name (at most 253 characters)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, ``null`` removes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    out: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def with_patch(rendered: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A rendered template with its ``templatePatch`` applied; ``spec.project`` is never patched."""
    spec = patch.get("spec")
    if isinstance(spec, Mapping) and "project" in spec:
        patch = {**patch, "spec": {k: v for k, v in spec.items() if k != "project"}}
    result = merge_patch(rendered, patch)
    return dict(result) if isinstance(result, Mapping) else {}


def owner_reference(appset: Mapping[str, Any]) -> dict[str, Any]:
    """The ownerReference every generated app carries: deleting the set deletes its apps."""
    meta = appset.get("metadata") or {}
    return {
        "apiVersion": application.API_VERSION,
        "kind": applicationset.KIND,
        "name": str(meta.get("name", "")),
        "uid": str(meta.get("uid", "")),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_owned_by(app: Mapping[str, Any], uid: str) -> bool:
    """Whether ``app`` is one of the set's (by the set's uid, as the garbage collector does)."""
    refs = (app.get("metadata") or {}).get("ownerReferences") or []
    return any(
        r.get("kind") == applicationset.KIND and r.get("uid") == uid and uid
        for r in refs
        if isinstance(r, Mapping)
    )


def application_of(
    appset: Mapping[str, Any],
    rendered: Mapping[str, Any],
    *,
    others: Sequence[str],
    projects: Sequence[str],
) -> plan.Wanted:
    """The generated app from a rendered template; invalid (with why) rather than an error.

    ``others`` are the names of apps in the set's namespace it does not own (never taken
    over); ``projects`` the AppProjects that exist.
    """
    set_meta = appset.get("metadata") or {}
    namespace = str(set_meta.get("namespace", ""))
    spec = appset.get("spec") or {}
    meta = rendered.get("metadata") or {}
    name = str(meta.get("name") or "")
    preserve = bool((spec.get("syncPolicy") or {}).get("preserveResourcesOnDeletion"))
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    annotations = {
        str(k): str(v)
        for k, v in (meta.get("annotations") or {}).items()
        if not str(k).startswith(KEPT_ANNOTATION_PREFIXES)
    }
    manifest_meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "ownerReferences": [owner_reference(appset)],
    }
    if labels:
        manifest_meta["labels"] = labels
    if annotations:
        manifest_meta["annotations"] = annotations
    finalizers = plan.finalizers([str(f) for f in meta.get("finalizers") or []], preserve=preserve)
    if finalizers:
        manifest_meta["finalizers"] = finalizers
    manifest = {
        "apiVersion": application.API_VERSION,
        "kind": application.KIND,
        "metadata": manifest_meta,
        "spec": dict(rendered.get("spec") or {}),
    }
    what = f"Application {namespace}/{name}" if name else "an Application"
    invalid = ""
    if not name:
        invalid = "a generated Application has an empty name"
    elif len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        invalid = f"{what}: the name is not a DNS subdomain (lower case, digits, '-', '.')"
    elif meta.get("namespace") not in (None, "", namespace):
        invalid = (
            f"{what}: must be in the set's namespace {namespace!r}, not {meta.get('namespace')!r}"
        )
    elif name in others:
        invalid = f"{what} exists and is not this ApplicationSet's; it is left alone"
    else:
        try:
            app = application.parse_application(manifest)
        except InvalidInputError as err:
            invalid = str(err)
        else:
            project = app.spec.project or DEFAULT_PROJECT_NAME
            if project not in projects:
                invalid = f"{what}: project {project!r} does not exist"
    return plan.Wanted(name, manifest, invalid)


def ignored_pointers(appset: Mapping[str, Any], name: str) -> list[str]:
    """The ``ignoreApplicationDifferences`` JSON pointers that apply to the app ``name``."""
    out: list[str] = []
    for rule in (appset.get("spec") or {}).get("ignoreApplicationDifferences") or []:
        if isinstance(rule, Mapping) and rule.get("name") in (None, "", name):
            out.extend(str(p) for p in rule.get("jsonPointers") or [])
    return out


def keep_live(wanted: Mapping[str, Any], live: Mapping[str, Any], pointers: Sequence[str]) -> Any:
    """``wanted`` with the live values at ``pointers`` (fields the set does not overwrite)."""
    out = plan.without(wanted, pointers)
    for pointer in pointers:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        value: Any = live
        for part in parts:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None or not parts:
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out
