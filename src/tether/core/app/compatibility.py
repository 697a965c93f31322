"""What tether does with each field of an Application or AppProject, read off one table.

Owns the lookup of a field's row (aliases applied, the longest covering row wins), the walk over
an object's input (``spec``, and an Application's ``operation``) that names every set field whose
row refuses it or that has no row at all, and the messages that say so. The rows are in
``compatibility_rows`` (the AppProject's in ``compatibility_project``); the walk over a CRD's
schema that lists the fields is here too, so the unit test and ``hack/argocd-fields.py`` read
Argo CD's and tether's schemas the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from tether.core.app import crds
from tether.core.app.compatibility_project import PROJECT_FIELDS
from tether.core.app.compatibility_rows import (
    ALIASES,
    APPLICATION_FIELDS,
    Alias,
    Refused,
    Row,
    Supported,
)
from tether.model import application, project as project_model
from tether.model.application import Application
from tether.model.project import AppProject

__all__ = [
    "ALIASES",
    "ALIASES_BY_KIND",
    "APPLICATION_FIELDS",
    "INPUT_SECTIONS",
    "PROJECT_FIELDS",
    "TABLES",
    "UNKNOWN",
    "Alias",
    "Refusal",
    "Refused",
    "Row",
    "Supported",
    "blocking_problems",
    "input_fields",
    "is_unset",
    "operation_problems",
    "refusals",
    "row_of",
    "schema_path",
    "warnings",
]

TABLES: dict[str, dict[str, Row]] = {
    application.KIND: APPLICATION_FIELDS,
    project_model.KIND: PROJECT_FIELDS,
}

ALIASES_BY_KIND: dict[str, dict[str, Alias]] = {
    application.KIND: ALIASES,
    project_model.KIND: {},
}

INPUT_SECTIONS: dict[str, tuple[str, ...]] = {
    # What users write; `status` is what the controller writes, so it has no rows.
    application.KIND: ("spec", "operation"),
    project_model.KIND: ("spec",),
}

UNKNOWN = "unknown field: tether does not know it"
"""The reason given for a set field no row covers (a typo, or a newer Argo CD's field)."""


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A set field tether does not honour: its concrete path, why, and whether it stops the app."""

    path: str
    """As in the object, indices included: ``spec.sources[1].helm.version``."""
    reason: str
    blocks: bool

    def message(self, owner: str) -> str:
        """``<owner>: <path> is not supported: <reason>``."""
        return f"{owner}: {self.path} is not supported: {self.reason}"


# ---- lookup -------------------------------------------------------------------------------------

_INDEX = re.compile(r"\[\d+\]")

# Lookups are cached: every comparison walks its app and project, and the walk asks by schema
# path (indices already made `[]`), so the same few hundred paths recur; bounded, since unknown
# fields are tenant input.


def _covers(prefix: str, path: str) -> bool:
    """Whether ``prefix`` is ``path`` or one of its ancestors (a field or an array's items)."""
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


@functools.lru_cache(maxsize=4096)
def schema_path(kind: str, path: str) -> str:
    """The path a row is keyed by: indices made ``[]``, an aliased place made its target."""
    path = _INDEX.sub("[]", path)
    for alias, entry in ALIASES_BY_KIND[kind].items():
        if _covers(alias, path):
            return entry.target + path[len(alias) :]
    return path


@functools.lru_cache(maxsize=4096)
def row_of(kind: str, path: str) -> tuple[str, Row] | None:
    """The row that decides a field (its key and the row), or ``None`` when none covers it."""
    table = TABLES[kind]
    key = schema_path(kind, path)
    while key:
        row = table.get(key)
        if row is not None:
            return key, row
        key = key[: max(key.rfind("."), key.rfind("[]"), 0)]
    return None


@functools.cache
def _inner_nodes(kind: str) -> frozenset[str]:
    """Paths with rows below them: the walk descends into these instead of judging them."""
    inner: set[str] = set()
    for key in [*TABLES[kind], *ALIASES_BY_KIND[kind]]:
        for match in re.finditer(r"\.|\[\]", key):
            inner.add(key[: match.start()])
    return frozenset(inner)


# ---- the walk -----------------------------------------------------------------------------------


def is_unset(value: object) -> bool:
    """Whether a value means the field is not set: None, False, "", [] or {} (0 is set)."""
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def _is_harmless(value: object, row: Refused) -> bool:
    # Compared with the type too: 1 == True, but a number is not a flag.
    return any(type(value) is type(h) and value == h for h in row.harmless)


def refusals(kind: str, manifest: Mapping[str, Any]) -> list[Refusal]:
    """Every set field of an object's input that tether refuses or does not know, in order."""
    found: list[Refusal] = []
    for section in INPUT_SECTIONS[kind]:
        found.extend(_walk(kind, section, section, manifest.get(section)))
    return found


def _walk(kind: str, key: str, shown: str, value: object) -> Iterator[Refusal]:
    if is_unset(value):
        return
    if schema_path(kind, key) in _inner_nodes(kind):
        if isinstance(value, Mapping):
            for name, item in value.items():
                yield from _walk(kind, f"{key}.{name}", f"{shown}.{name}", item)
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _walk(kind, f"{key}[]", f"{shown}[{index}]", item)
            return
    found = row_of(kind, key)
    if found is None:
        yield Refusal(shown, UNKNOWN, blocks=True)
        return
    _, row = found
    if isinstance(row, Refused) and not _is_harmless(value, row):
        yield Refusal(shown, row.reason, row.blocks)


# ---- what the controller says -------------------------------------------------------------------


def _application(app: Application, section: str) -> list[Refusal]:
    part = app.spec if section == "spec" else app.operation
    manifest = {section: part.to_manifest() if part is not None else None}
    return refusals(application.KIND, manifest)


def _project(project: AppProject) -> list[Refusal]:
    return refusals(project_model.KIND, {"spec": project.spec.to_manifest()})


def _owners(app: Application, project: AppProject) -> tuple[str, str]:
    return f"{application.KIND} {app.qualified_name}", f"{project_model.KIND} {project.name!r}"


def blocking_problems(app: Application, project: AppProject) -> list[str]:
    """Why the app may not be synced: refused or unknown fields set in its spec or its project.

    The operation's fields are the sync runner's to refuse (``operation_problems``), so that a
    pending operation never makes the app itself invalid.
    """
    who, where = _owners(app, project)
    return [r.message(who) for r in _application(app, "spec") if r.blocks] + [
        r.message(where) for r in _project(project) if r.blocks
    ]


def warnings(app: Application, project: AppProject) -> list[str]:
    """Refused fields that stop nothing (they govern what tether does not offer), as messages."""
    who, where = _owners(app, project)
    return [r.message(who) for r in _application(app, "spec") if not r.blocks] + [
        r.message(where) for r in _project(project) if not r.blocks
    ]


def operation_problems(app: Application) -> list[str]:
    """Why the requested operation may not run: refused or unknown fields set in it."""
    who = f"{application.KIND} {app.qualified_name}"
    return [r.message(who) for r in _application(app, "operation") if r.blocks]


# ---- the fields a schema declares ---------------------------------------------------------------


def input_fields(crd: Mapping[str, Any]) -> list[str]:
    """``<Kind> <path>`` for every input field of a CRD's schema (its first version's)."""
    spec = crd["spec"]
    kind = spec["names"]["kind"]
    schema = spec["versions"][0]["schema"]["openAPIV3Schema"]
    return [
        f"{kind} {path}"
        for section in INPUT_SECTIONS[kind]
        for path in crds.leaf_paths(schema["properties"][section], section)
    ]
