"""What one pass of an ApplicationSet changes, and the fail-safe rules no change gets around.

Every delete the service makes comes from a ``Plan`` built here. The rules, in order:

1. Any generator or template error: the pass changes nothing (``error_plan``).
2. Invalid generated apps are skipped, never deleted: deletion compares against the full list.
3. The policy decides which of create, update and delete are allowed at all.
4. Zero apps generated while the set owns some: nothing is deleted unless the set carries
   ``ALLOW_EMPTY`` set to ``"true"``.
5. More than ``MAX_DELETE_SHARE`` of the owned apps (and more than one) to delete in one pass:
   nothing is deleted unless the set carries ``ALLOW_MASS_DELETION`` set to ``"true"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Policy = Literal["create-only", "create-update", "create-delete", "sync"]

POLICIES: dict[str, tuple[bool, bool]] = {
    # applicationsSync value: (may update, may delete); every policy creates.
    "create-only": (False, False),
    "create-update": (True, False),
    "create-delete": (False, True),
    "sync": (True, True),
}
DEFAULT_POLICY = "sync"

ALLOW_EMPTY = "tether.dev/allow-empty"
"""Annotation on a set: ``"true"`` lets a generation of zero apps delete every owned app."""

ALLOW_MASS_DELETION = "tether.dev/allow-mass-deletion"
"""Annotation on a set: ``"true"`` lifts the ``MAX_DELETE_SHARE`` guard."""

MAX_DELETE_SHARE = 0.5
"""A pass deleting more than half of a set's apps is more often a broken generator (a Git tree
half checked out, an API answering partially) than an intended change; Argo CD has deleted
production apps this way (argo-cd#14318, #18212, #18480)."""

ERROR_REQUEUE_S = 180.0
"""After an error the set is retried after a fixed delay, never in a hot loop (argo-cd#18761)."""

RESOURCES_FINALIZERS = (
    # Finalizers that make deleting an app delete its workloads; dropped when the set preserves.
    "resources-finalizer.argocd.argoproj.io",
    "resources-finalizer.argocd.argoproj.io/foreground",
    "resources-finalizer.argocd.argoproj.io/background",
)

ERROR_OCCURRED = "ErrorOccurred"
PARAMETERS_GENERATED = "ParametersGenerated"
RESOURCES_UP_TO_DATE = "ResourcesUpToDate"


@dataclasses.dataclass(frozen=True)
class Wanted:
    """One generated Application: its manifest, or why it is invalid and skipped."""

    name: str
    manifest: Mapping[str, Any]
    invalid: str = ""


@dataclasses.dataclass(frozen=True)
class Condition:
    """One status condition, as Argo CD writes it (the service stamps the time)."""

    type: str
    status: Literal["True", "False"]
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class Plan:
    """The writes of one pass, what was withheld, and the conditions to write."""

    creates: tuple[Mapping[str, Any], ...] = ()
    updates: tuple[Mapping[str, Any], ...] = ()
    deletes: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    """Owned apps the generators no longer produce, kept by a fail-safe rule."""
    conditions: tuple[Condition, ...] = ()
    requeue_s: float | None = None
    generated: tuple[str, ...] = ()
    """The valid generated apps' names (the set's ``status.resources``)."""


def policy_of(spec: Mapping[str, Any]) -> str:
    """The set's ``syncPolicy.applicationsSync`` (``sync`` when unset); unknown values refused."""
    value = str((spec.get("syncPolicy") or {}).get("applicationsSync") or DEFAULT_POLICY)
    if value not in POLICIES:
        raise ValueError(
            f"syncPolicy.applicationsSync {value!r} is not one of {', '.join(POLICIES)}"
        )
    return value


def error_plan(reason: str, message: str) -> Plan:
    """Rule 1: a generation or template error changes nothing and says why."""
    return Plan(
        conditions=(
            Condition(ERROR_OCCURRED, "True", reason, message),
            Condition(PARAMETERS_GENERATED, "False", ERROR_OCCURRED, message),
            Condition(RESOURCES_UP_TO_DATE, "False", ERROR_OCCURRED, message),
        ),
        requeue_s=ERROR_REQUEUE_S,
    )


def plan(
    wanted: Sequence[Wanted],
    owned: Mapping[str, Mapping[str, Any]],
    *,
    policy: str,
    annotations: Mapping[str, str],
    ignored: Sequence[str] = (),
) -> Plan:
    """The pass's writes: ``wanted`` (all generated apps) against ``owned`` (live, by name).

    ``ignored`` are JSON pointers under an app (``/spec/syncPolicy``) whose live value is kept.
    """
    may_update, may_delete = POLICIES[policy]
    valid = [w for w in wanted if not w.invalid]
    invalid = [w for w in wanted if w.invalid]
    creates = tuple(w.manifest for w in valid if w.name not in owned)
    updates = tuple(
        w.manifest
        for w in valid
        if may_update and w.name in owned and differs(w.manifest, owned[w.name], ignored)
    )
    generated = {w.name for w in wanted}
    gone = sorted(name for name in owned if name not in generated)
    deletes: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    conditions: list[Condition] = [
        Condition(
            PARAMETERS_GENERATED,
            "True",
            "ParametersGenerated",
            "Successfully generated parameters for all Applications",
        ),
    ]
    reason = _withhold_reason(len(wanted), len(owned), len(gone), annotations)
    if gone and may_delete and not reason:
        deletes = tuple(gone)
    elif gone:
        withheld = tuple(gone)
    if invalid:
        message = invalid[-1].invalid
        if len(invalid) > 1:
            message += f" (and {len(invalid) - 1} more)"
        conditions.append(Condition(ERROR_OCCURRED, "True", "ApplicationValidationError", message))
        conditions.append(
            Condition(RESOURCES_UP_TO_DATE, "False", "ApplicationValidationError", message)
        )
    elif gone and may_delete and reason:
        conditions.append(Condition(ERROR_OCCURRED, "False", "DeletionWithheld", reason))
        conditions.append(Condition(RESOURCES_UP_TO_DATE, "False", "DeletionWithheld", reason))
    else:
        conditions.append(
            Condition(
                ERROR_OCCURRED,
                "False",
                "ApplicationSetUpToDate",
                "Successfully generated parameters for all Applications",
            )
        )
        conditions.append(
            Condition(
                RESOURCES_UP_TO_DATE,
                "True",
                "ApplicationSetUpToDate",
                "All applications have been generated successfully",
            )
        )
    return Plan(
        creates=creates,
        updates=updates,
        deletes=deletes,
        withheld=withheld,
        conditions=tuple(conditions),
        requeue_s=ERROR_REQUEUE_S if invalid else None,
        generated=tuple(sorted(w.name for w in valid)),
    )


def _withhold_reason(generated: int, owned: int, gone: int, annotations: Mapping[str, str]) -> str:
    """Why the fail-safe keeps the apps the generators dropped ("" when it does not)."""
    if not gone:
        return ""
    if generated == 0 and annotations.get(ALLOW_EMPTY) != "true":
        return (
            f"the generators produced no Applications while the set owns {owned}; none is"
            f' deleted (annotate the set {ALLOW_EMPTY}: "true" to allow it)'
        )
    if (
        generated > 0
        and gone > 1
        and gone > MAX_DELETE_SHARE * owned
        and annotations.get(ALLOW_MASS_DELETION) != "true"
    ):
        return (
            f"{gone} of the set's {owned} Applications would be deleted in one pass, more"
            f" than {MAX_DELETE_SHARE:.0%}; none is deleted (annotate the set"
            f' {ALLOW_MASS_DELETION}: "true" to allow it)'
        )
    return ""


def differs(
    wanted: Mapping[str, Any], live: Mapping[str, Any], ignored: Sequence[str] = ()
) -> bool:
    """Whether the live app lacks something the generated one sets.

    Spec, labels, annotations and finalizers are compared; the ``ignored`` pointers are not.
    """
    want_meta = wanted.get("metadata") or {}
    live_meta = live.get("metadata") or {}
    for field in ("labels", "annotations"):
        have = live_meta.get(field) or {}
        if any(have.get(k) != v for k, v in (want_meta.get(field) or {}).items()):
            return True
    if sorted(want_meta.get("finalizers") or []) != sorted(live_meta.get("finalizers") or []):
        return True
    return without(wanted, ignored).get("spec") != without(live, ignored).get("spec")


def without(obj: Mapping[str, Any], pointers: Sequence[str]) -> dict[str, Any]:
    """A copy of ``obj`` without the fields at the JSON ``pointers``."""
    out: dict[str, Any] = _copy(obj)
    for pointer in pointers:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        node: Any = out
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts:
            node.pop(parts[-1], None)
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def finalizers(template: Sequence[str], *, preserve: bool) -> list[str]:
    """A generated app's finalizers: the template's.

    Less the resources finalizers when the set preserves workloads on deletion.
    """
    return [f for f in template if not (preserve and f in RESOURCES_FINALIZERS)]
