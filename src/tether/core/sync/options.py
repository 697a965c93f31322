"""Argo CD sync options: parse ``Name=value`` strings and resolve one resource's effective options.

Options come from the operation (``spec.syncPolicy.syncOptions``) and from each object's
``argocd.argoproj.io/sync-options`` annotation; ``MERGE`` says which level wins for each option.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable, Iterable
from typing import Any, Literal

from tether.model import resources
from tether.model.resources import Manifest

ANNOTATION = "argocd.argoproj.io/sync-options"


class PruneMode(enum.Enum):
    """What pruning a resource means (``Prune=``)."""

    ENABLED = "true"
    DISABLED = "false"
    CONFIRM = "confirm"


class DeleteMode(enum.Enum):
    """What deleting a resource with its Application means (``Delete=``)."""

    ENABLED = "true"
    DISABLED = "false"
    CONFIRM = "confirm"


class Propagation(enum.Enum):
    """Kubernetes deletion propagation (``PrunePropagationPolicy=``)."""

    FOREGROUND = "Foreground"
    BACKGROUND = "Background"
    ORPHAN = "Orphan"


class Merge(enum.Enum):
    """How an option set on a resource combines with the operation's."""

    RESOURCE_WINS = "the resource's value, when set, replaces the operation's"
    EITHER_TRUE = "on when either level says true; a resource cannot turn the operation's off"
    EITHER_FALSE = "off when either level says false; a resource cannot turn the operation's on"
    OPERATION_ONLY = "only the operation's value counts; the annotation is ignored"


@dataclasses.dataclass(frozen=True)
class OptionError:
    """An option tether cannot honour, with the reason a person needs to fix it."""

    option: str
    reason: str

    @property
    def message(self) -> str:
        """One line naming the option and the problem."""
        return f"sync option {self.option!r}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class SyncOptions:
    """Options as written at one level; ``None`` means "not set here"."""

    prune: PruneMode | None = None
    prune_last: bool | None = None
    prune_propagation: Propagation | None = None
    validate: bool | None = None
    skip_dry_run_on_missing_resource: bool | None = None
    apply_out_of_sync_only: bool | None = None
    replace: bool | None = None
    force: bool | None = None
    server_side_apply: bool | None = None
    client_side_apply_migration: bool | None = None
    create_namespace: bool | None = None
    respect_ignore_differences: bool | None = None
    fail_on_shared_resource: bool | None = None
    delete: DeleteMode | None = None


@dataclasses.dataclass(frozen=True)
class Effective:
    """One resource's options after merging levels and applying tether's defaults."""

    prune: PruneMode = PruneMode.ENABLED
    """Allowed unless someone said otherwise; the operation's ``prune`` flag still gates it."""
    prune_last: bool = False
    prune_propagation: Propagation = Propagation.FOREGROUND
    """Argo's default: owners wait for their dependents, so nothing is orphaned mid-sync."""
    validate: bool = True
    """Strict field validation catches typos before they reach the cluster."""
    skip_dry_run_on_missing_resource: bool = False
    apply_out_of_sync_only: bool = False
    replace: bool = False
    force: bool = False
    server_side_apply: bool = True
    """tether's default (Argo's is client-side): SSA needs no last-applied annotation."""
    client_side_apply_migration: bool = True
    """Argo's default: take over fields an earlier ``kubectl apply`` owned."""
    create_namespace: bool = False
    respect_ignore_differences: bool = False
    fail_on_shared_resource: bool = False
    delete: DeleteMode = DeleteMode.ENABLED


def _boolean(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value.lower())


def _enum(cls: type[enum.Enum]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        for member in cls:
            if member.value.lower() == value.lower():
                return member
        return None

    return parse


@dataclasses.dataclass(frozen=True)
class _Spec:
    field: str
    parse: Callable[[str], Any]
    merge: Merge


OPTIONS: dict[str, _Spec] = {
    # Prune=false on a live object keeps it forever; Prune=confirm waits for an approval.
    "Prune": _Spec("prune", _enum(PruneMode), Merge.RESOURCE_WINS),
    # Argo reads PruneLast from the op or the live object; either one moves the prune last.
    "PruneLast": _Spec("prune_last", _boolean, Merge.EITHER_TRUE),
    # Deletion options apply to the whole operation's DELETE calls.
    "PrunePropagationPolicy": _Spec("prune_propagation", _enum(Propagation), Merge.OPERATION_ONLY),
    # Argo validates unless the op or the object opts out.
    "Validate": _Spec("validate", _boolean, Merge.EITHER_FALSE),
    "SkipDryRunOnMissingResource": _Spec(
        "skip_dry_run_on_missing_resource", _boolean, Merge.EITHER_TRUE
    ),
    # Compares the whole app's diff, so only meaningful for the operation.
    "ApplyOutOfSyncOnly": _Spec("apply_out_of_sync_only", _boolean, Merge.OPERATION_ONLY),
    # Argo ORs the op flag with the object's annotation for Replace and Force.
    "Replace": _Spec("replace", _boolean, Merge.EITHER_TRUE),
    "Force": _Spec("force", _boolean, Merge.EITHER_TRUE),
    # A resource's ServerSideApply=false overrides the operation's true, and vice versa.
    "ServerSideApply": _Spec("server_side_apply", _boolean, Merge.RESOURCE_WINS),
    "ClientSideApplyMigration": _Spec(
        "client_side_apply_migration", _boolean, Merge.OPERATION_ONLY
    ),
    "CreateNamespace": _Spec("create_namespace", _boolean, Merge.OPERATION_ONLY),
    "RespectIgnoreDifferences": _Spec("respect_ignore_differences", _boolean, Merge.OPERATION_ONLY),
    "FailOnSharedResource": _Spec("fail_on_shared_resource", _boolean, Merge.OPERATION_ONLY),
    # Delete=false on an object keeps it when its Application is deleted.
    "Delete": _Spec("delete", _enum(DeleteMode), Merge.RESOURCE_WINS),
}
"""Every option tether understands: its field, its value parser and how the levels combine."""


def parse(values: Iterable[str]) -> SyncOptions | OptionError:
    """Parse ``Name=value`` strings (surrounding spaces ignored); the first problem is returned.

    Option names are case-sensitive, as in Argo CD; values are not.
    """
    fields: dict[str, Any] = {}
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        name, sep, value = (part.strip() for part in text.partition("="))
        spec = OPTIONS.get(name)
        if spec is None:
            return OptionError(text, f"unknown option {name!r}; known: {', '.join(OPTIONS)}")
        parsed = spec.parse(value) if sep else None
        if parsed is None:
            return OptionError(text, f"{value!r} is not a valid value for {name}")
        fields[spec.field] = parsed
    return SyncOptions(**fields)


def of(obj: Manifest | None) -> SyncOptions | OptionError:
    """The options in an object's sync-options annotation (comma separated)."""
    if obj is None:
        return SyncOptions()
    return _parse_annotation(resources.annotation(obj, ANNOTATION))


@functools.lru_cache(maxsize=1024)
def _parse_annotation(value: str) -> SyncOptions | OptionError:
    # Every step re-plans every object; the same few annotation strings recur.
    return parse(value.split(","))


@functools.lru_cache(maxsize=1024)
def resolve(operation: SyncOptions, *annotated: SyncOptions) -> Effective:
    """Merge the operation's options with those of a resource's objects (target, then live).

    Several annotated levels (an object's target and live versions) are merged among
    themselves first with the same rule; the earlier one wins a ``RESOURCE_WINS`` tie.
    """
    effective = Effective()
    values: dict[str, Any] = {}
    for spec in OPTIONS.values():
        op_value = getattr(operation, spec.field)
        res_values = [getattr(level, spec.field) for level in annotated]
        res_values = [value for value in res_values if value is not None]
        value = _merge(spec.merge, op_value, res_values)
        values[spec.field] = getattr(effective, spec.field) if value is None else value
    return dataclasses.replace(effective, **values)


def for_object(operation: SyncOptions | OptionError, *objects: Manifest | None) -> Effective:
    """One resource's options as a sync resolves them.

    Its objects' annotations (the target's, then the live one's) merged over the operation's.

    Unparsable options at any level keep the defaults there (the sync refuses them by name).
    """
    levels = [of(obj) for obj in objects if obj is not None]
    return resolve(
        operation if isinstance(operation, SyncOptions) else SyncOptions(),
        *(level for level in levels if isinstance(level, SyncOptions)),
    )


def field_validation(strict: bool) -> Literal["Strict", "Ignore"]:
    """What the API server is told to do with fields its schema does not know.

    ``Strict`` (the default, as ``kubectl apply`` since 1.25) fails the write naming the field:
    a typo in Git must not vanish on the way in while the app shows Synced. ``Validate=false``
    asks for ``Ignore``, Argo CD's ``kubectl --validate=false``.
    """
    return "Strict" if strict else "Ignore"


def _merge(rule: Merge, op_value: Any, res_values: list[Any]) -> Any:
    if rule is Merge.OPERATION_ONLY or not res_values:
        return op_value
    if rule is Merge.RESOURCE_WINS:
        return res_values[0]
    wanted = rule is Merge.EITHER_TRUE
    if op_value is wanted or wanted in res_values:
        return wanted
    return op_value if op_value is not None else res_values[0]
