"""The Application, AppProject and ApplicationSet CRDs, generated from the pydantic models.

Pure: ``manifests()`` returns the CRDs that ``hack/gen-crds.py`` writes to ``deploy/crds/``, and
``check_installed`` says why a CRD found in a cluster will not do.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic
import yaml

from tether.model import application, applicationset, project

GROUP = application.GROUP
VERSION = application.VERSION
APPLICATIONS = f"applications.{GROUP}"
APPPROJECTS = f"appprojects.{GROUP}"
APPLICATIONSETS = f"applicationsets.{GROUP}"

CRD_API_VERSION = "apiextensions.k8s.io/v1"

DROPPED_KEYWORDS: dict[str, str] = {
    # JSON Schema keywords pydantic emits that a CRD schema must not carry, and why.
    "title": "pydantic derives it from the field name; kubectl explain shows descriptions instead",
    "default": "the API server would write defaults into stored objects and break round-trips",
    "$defs": "CRD schemas cannot reference; every $ref is inlined",
}

NAMES: dict[str, dict[str, Any]] = {
    # Argo CD's names, so `kubectl get app` and existing tooling keep working.
    APPLICATIONS: {
        "kind": application.KIND,
        "listKind": f"{application.KIND}List",
        "plural": "applications",
        "singular": "application",
        "shortNames": ["app", "apps"],
    },
    APPPROJECTS: {
        "kind": project.KIND,
        "listKind": f"{project.KIND}List",
        "plural": "appprojects",
        "singular": "appproject",
        "shortNames": ["appproj", "appprojs"],
    },
    APPLICATIONSETS: {
        "kind": applicationset.KIND,
        "listKind": f"{applicationset.KIND}List",
        "plural": "applicationsets",
        "singular": "applicationset",
        "shortNames": ["appset", "appsets"],
    },
}

APPLICATION_PRINTER_COLUMNS: list[dict[str, Any]] = [
    # The columns Argo CD's CRD declares; priority 10 columns show only with `-o wide`.
    {"jsonPath": ".status.sync.status", "name": "Sync Status", "type": "string"},
    {"jsonPath": ".status.health.status", "name": "Health Status", "type": "string"},
    {"jsonPath": ".status.sync.revision", "name": "Revision", "priority": 10, "type": "string"},
    {"jsonPath": ".spec.project", "name": "Project", "priority": 10, "type": "string"},
]

_ROOT_DESCRIPTIONS: dict[str, str] = {
    "apiVersion": f"The versioned schema of this object ({application.API_VERSION}).",
    "kind": "The kind of this object.",
}


# ---- schema conversion --------------------------------------------------------------------------


def _is_null(node: Mapping[str, Any]) -> bool:
    return node.get("type") == "null"


def _plain(docstring: str) -> str:
    """A docstring as ``kubectl explain`` should show it: no reStructuredText literals."""
    return " ".join(docstring.replace("``", "`").split())


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Turn one pydantic JSON Schema node into a structural OpenAPI v3 node."""
    node = dict(node)
    ref = node.pop("$ref", None)
    if ref is not None:
        target = dict(defs[str(ref).rsplit("/", 1)[-1]])
        target.update(node)  # keys beside the $ref (a description) win over the definition's
        node = target
    for key in DROPPED_KEYWORDS:
        node.pop(key, None)

    out: dict[str, Any] = {}
    variants = node.pop("anyOf", None)
    if variants is not None:
        members = [v for v in variants if not _is_null(v)]
        if len(members) < len(variants):
            out["nullable"] = True
        if len(members) == 1:
            merged = {**members[0], **node}
            converted = _convert(merged, defs)
            return {**converted, **out}
        if sorted(str(m.get("type")) for m in members) == ["integer", "string"]:
            # The one union a structural schema allows: Kubernetes' int-or-string.
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
            out["x-kubernetes-int-or-string"] = True
        else:
            # Any other union is left to the model to validate.
            out["x-kubernetes-preserve-unknown-fields"] = True
        if "description" in node:
            out["description"] = _plain(node["description"])
        return out

    if "description" in node:
        out["description"] = _plain(node["description"])
    if not node or set(node) <= {"description"}:
        # `Any`: free-form data, of any type.
        out["x-kubernetes-preserve-unknown-fields"] = True
        return out
    out["type"] = node["type"]
    if "items" in node:
        out["items"] = _convert(node["items"], defs)
    properties = node.get("properties")
    extra = node.get("additionalProperties")
    if properties is not None:
        out["properties"] = {name: _convert(sub, defs) for name, sub in properties.items()}
        if node.get("required"):
            out["required"] = list(node["required"])
    if extra is True:
        # `extra="allow"` and `dict[str, Any]`: unknown fields are kept, not pruned.
        out["x-kubernetes-preserve-unknown-fields"] = True
    elif isinstance(extra, Mapping) and properties is None:
        out["additionalProperties"] = _convert(extra, defs)
    for key in ("format", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength"):
        if key in node:
            out[key] = node[key]
    return out


def openapi_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a top-level resource model."""
    return copy.deepcopy(_openapi_schema(model))


@functools.cache
def _openapi_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    # Cached: pydantic's schema generation takes a noticeable fraction of a second per model.
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    schema = _convert(raw, defs)
    # Unknown top-level keys are not kept: a CR has apiVersion, kind, metadata and its sections.
    schema.pop("x-kubernetes-preserve-unknown-fields", None)
    properties = schema["properties"]
    for name, description in _ROOT_DESCRIPTIONS.items():
        properties[name] = {"description": description, "type": "string"}
    # The API server owns metadata; a CRD may not constrain it beyond name and generateName.
    properties["metadata"] = {"type": "object"}
    return schema


# ---- manifests ----------------------------------------------------------------------------------


def _crd(name: str, schema: dict[str, Any], version_extras: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": CRD_API_VERSION,
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/name": name,
                "app.kubernetes.io/part-of": "tether",
            },
        },
        "spec": {
            "group": GROUP,
            "names": copy.deepcopy(NAMES[name]),
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    **version_extras,
                }
            ],
        },
    }


def application_crd() -> dict[str, Any]:
    """The ``applications.argoproj.io`` CRD.

    ``subresources`` is empty, as in Argo CD: there is no ``status`` subresource, and controllers
    write status with ordinary updates and patches. Adding one would make the API server ignore
    ``status`` in those writes and break Argo CD tooling.
    """
    extras = {
        "additionalPrinterColumns": copy.deepcopy(APPLICATION_PRINTER_COLUMNS),
        "subresources": {},
    }
    return _crd(APPLICATIONS, openapi_schema(application.Application), extras)


def appproject_crd() -> dict[str, Any]:
    """The ``appprojects.argoproj.io`` CRD (no subresources, no extra columns, as in Argo CD)."""
    return _crd(APPPROJECTS, openapi_schema(project.AppProject), {})


def applicationset_crd() -> dict[str, Any]:
    """The ``applicationsets.argoproj.io`` CRD; Argo CD's has a ``status`` subresource."""
    return _crd(
        APPLICATIONSETS,
        openapi_schema(applicationset.ApplicationSet),
        {"subresources": {"status": {}}},
    )


GENERATED_HEADER = "# Generated by hack/gen-crds.py from tether.model; do not edit.\n"


def to_yaml(manifest: Mapping[str, Any]) -> str:
    """A manifest as committed under ``deploy/crds/``: a header, then stable YAML."""
    body = yaml.safe_dump(dict(manifest), sort_keys=False, width=100, allow_unicode=True)
    return GENERATED_HEADER + body


def manifests() -> dict[str, dict[str, Any]]:
    """Every CRD tether needs, by the file name under ``deploy/crds/`` it is committed as."""
    return {
        "applications.yaml": application_crd(),
        "appprojects.yaml": appproject_crd(),
        "applicationsets.yaml": applicationset_crd(),
    }


# ---- fields ------------------------------------------------------------------------------------


def leaf_paths(schema: Mapping[str, Any], prefix: str) -> Iterator[str]:
    """Every field a schema declares below ``prefix``, as a path to a leaf.

    A leaf is a node without ``properties`` (a scalar, a map, free-form data); an array's items
    are walked with ``[]`` added (``spec.source.helm.valueFiles[]``).
    """
    properties = schema.get("properties")
    items = schema.get("items")
    if properties:
        for name, sub in properties.items():
            yield from leaf_paths(sub, f"{prefix}.{name}")
    elif schema.get("type") == "array" and isinstance(items, Mapping):
        yield from leaf_paths(items, f"{prefix}[]")
    else:
        yield prefix


# ---- compatibility of an installed CRD ----------------------------------------------------------


def _schema_paths(schema: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from _schema_paths(sub, path)
    items = schema.get("items")
    if isinstance(items, Mapping):
        yield from _schema_paths(items, f"{prefix}[]")


def _is_kept(schema: Mapping[str, Any], path: str) -> bool:
    """Whether an installed schema keeps ``path`` (declares it, or preserves unknown fields)."""
    node: Mapping[str, Any] = schema
    for part in path.replace("[]", ".[]").split("."):
        if node.get("x-kubernetes-preserve-unknown-fields") is True:
            return True
        if part == "[]":
            node = node.get("items") or {}
        else:
            properties = node.get("properties") or {}
            if part not in properties:
                return False
            node = properties[part]
    return True


def _established(crd: Mapping[str, Any]) -> str | None:
    """The Established condition's status, or None when the manifest has no status."""
    status = crd.get("status")
    if not isinstance(status, Mapping) or "conditions" not in status:
        return None
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == "Established":
            return str(cond.get("status"))
    return "Unknown"


MAX_LISTED_PATHS = 5
"""Dropped field paths named in one problem; the rest are counted."""


def check_installed(crd: Mapping[str, Any]) -> list[str]:
    """Why an installed tether CRD (Application, AppProject, ApplicationSet) will not serve.

    Checks what a controller relies on: group, names, scope, a served ``v1alpha1`` version, that
    the CRD is established, and that its schema keeps every field tether writes (an older Argo CD
    CRD may prune, say, ``spec.sources``).
    """
    meta = crd.get("metadata")
    name = str(meta.get("name", "")) if isinstance(meta, Mapping) else ""
    expected = {
        APPLICATIONS: application_crd,
        APPPROJECTS: appproject_crd,
        APPLICATIONSETS: applicationset_crd,
    }.get(name)
    if expected is None:
        known = ", ".join((APPLICATIONS, APPPROJECTS, APPLICATIONSETS))
        return [f"CRD {name or '<unnamed>'}: not one of {known}"]
    what = f"CRD {name}"
    spec = crd.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    problems: list[str] = []
    if crd.get("apiVersion") != CRD_API_VERSION or crd.get("kind") != "CustomResourceDefinition":
        problems.append(f"{what}: not an {CRD_API_VERSION} CustomResourceDefinition")
    if spec.get("group") != GROUP:
        problems.append(f"{what}: group is {spec.get('group')!r}, expected {GROUP!r}")
    if spec.get("scope") != "Namespaced":
        problems.append(f"{what}: scope is {spec.get('scope')!r}, expected 'Namespaced'")
    names = spec.get("names")
    names = names if isinstance(names, Mapping) else {}
    for key in ("kind", "plural"):
        if names.get(key) != NAMES[name][key]:
            want = NAMES[name][key]
            problems.append(f"{what}: names.{key} is {names.get(key)!r}, expected {want!r}")
    if _established(crd) not in (None, "True"):
        problems.append(f"{what}: not Established yet (the API server has not accepted it)")
    versions = [v for v in spec.get("versions") or [] if isinstance(v, Mapping)]
    version = next((v for v in versions if v.get("name") == VERSION), None)
    if version is None:
        problems.append(f"{what}: has no version {VERSION}")
        return problems
    if not version.get("served"):
        problems.append(f"{what}: version {VERSION} is not served")
    installed = ((version.get("schema") or {}).get("openAPIV3Schema")) or {}
    if not installed:
        return problems
    wanted = expected()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    # The API server always keeps apiVersion, kind and metadata, whatever the schema says.
    always = ("apiVersion", "kind", "metadata")
    dropped = [
        p for p in _schema_paths(wanted) if not p.startswith(always) and not _is_kept(installed, p)
    ]
    # Report the shallowest paths only: a missing `spec.sources` implies all its children. The
    # walk is depth-first, so children follow their parent directly.
    roots: list[str] = []
    for path in dropped:
        if not roots or not path.startswith((f"{roots[-1]}.", f"{roots[-1]}[]")):
            roots.append(path)
    if roots:
        listed = ", ".join(roots[:MAX_LISTED_PATHS])
        more = f" and {len(roots) - MAX_LISTED_PATHS} more" if len(roots) > MAX_LISTED_PATHS else ""
        problems.append(f"{what}: its schema would drop fields tether writes: {listed}{more}")
    return problems
