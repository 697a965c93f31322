"""The Argo CD ``Application`` resource (``argoproj.io/v1alpha1``) and its validating parser.

The parts live in ``source``, ``app_spec``, ``operation`` and ``app_status``; they are re-exported
here so callers can write ``from tether.model import application`` and ``application.X``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pydantic

from tether.model import timestamps
from tether.model._base import ArgoModel, ObjectMeta
from tether.model.app_spec import (
    DEFAULT_REVISION_HISTORY_LIMIT,
    ApplicationDestination,
    ApplicationSpec,
    Info,
    ManagedNamespaceMetadata,
    ResourceIgnoreDifferences,
    RetryStrategy,
    SyncPolicy,
    SyncPolicyAutomated,
)
from tether.model.app_status import (
    CONDITION_TYPES,
    ApplicationCondition,
    ApplicationStatus,
    RevisionHistory,
    append_history,
    set_conditions,
)
from tether.model.errors import InvalidInputError
from tether.model.operation import Operation, OperationState, SyncOperation
from tether.model.resources import GroupKind
from tether.model.source import ApplicationSource
from tether.model.status import SyncPhase

__all__ = [
    "API_VERSION",
    "CASCADE_FINALIZERS",
    "CLEANUP",
    "CONDITION_TYPES",
    "DEFAULT_REVISION_HISTORY_LIMIT",
    "DELETION_APPROVED",
    "DELETION_HOOK_FINALIZERS",
    "GROUP",
    "GROUP_KIND",
    "KIND",
    "ROLLBACK_HOLD",
    "VERSION",
    "Application",
    "ApplicationCondition",
    "ApplicationDestination",
    "ApplicationSource",
    "ApplicationSpec",
    "ApplicationStatus",
    "Info",
    "ManagedNamespaceMetadata",
    "Operation",
    "OperationState",
    "ResourceIgnoreDifferences",
    "RetryStrategy",
    "RevisionHistory",
    "SyncOperation",
    "SyncPolicy",
    "SyncPolicyAutomated",
    "append_history",
    "format_validation_error",
    "parse_application",
    "set_conditions",
]

GROUP = "argoproj.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "Application"
GROUP_KIND = GroupKind(GROUP, KIND)

DELETION_APPROVED = "argocd.argoproj.io/deletion-approved"
"""Argo CD's approval of pending ``Prune=confirm`` prunes and ``Delete=confirm`` deletions: the
time it was given (``tether app confirm-deletion``); only an approval given after the operation
started, or after the Application's deletion began, counts."""

ROLLBACK_HOLD = "tether.dev/rollback-hold"
"""Set on an Application by ``tether app rollback`` (the history id it went back to): an app of
apps that deploys it leaves its ``spec.syncPolicy.automated`` as the rollback left it (off)
instead of self-healing it back on, which would sync the child forward again at once. A
``tether app sync`` of the child removes it. tether's own: Argo CD refuses such a rollback."""

MIGRATION_MANAGER = "argocd.argoproj.io/client-side-apply-migration-manager"
"""Argo CD's annotation naming the client-side manager ``ClientSideApplyMigration`` migrates, in
place of ``kubectl-client-side-apply``."""

CASCADE_FINALIZERS: dict[str, str] = {
    # Argo CD's finalizers that make deleting an Application delete its resources first, and
    # the propagation policy each asks for (the plain name is foreground).
    "resources-finalizer.argocd.argoproj.io": "Foreground",
    "resources-finalizer.argocd.argoproj.io/foreground": "Foreground",
    "resources-finalizer.argocd.argoproj.io/background": "Background",
}

DELETION_HOOK_FINALIZERS: dict[SyncPhase, str] = {
    # Argo CD's finalizers of an app whose Git has hooks of the phase: the controller keeps
    # each, and its "/cleanup" form, on the app while it lives, so deleting it runs them.
    SyncPhase.PRE_DELETE: "pre-delete-finalizer.argocd.argoproj.io",
    SyncPhase.POST_DELETE: "post-delete-finalizer.argocd.argoproj.io",
}

CLEANUP = "/cleanup"
"""Suffix of the deletion hook finalizers held until the phase's hooks are cleaned up."""


class Application(ArgoModel):
    """An Argo CD Application: sources to render, a destination, a project and a sync policy."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta
    spec: ApplicationSpec
    status: ApplicationStatus | None = None
    operation: Operation | None = None

    @classmethod
    def new(cls, name: str, namespace: str, spec: ApplicationSpec) -> Application:
        """A new Application with ``apiVersion`` and ``kind`` set, ready to be written."""
        return cls(
            api_version=API_VERSION,
            kind=KIND,
            metadata=ObjectMeta(name=name, namespace=namespace),
            spec=spec,
        )

    @property
    def name(self) -> str:
        """The Application's name."""
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        """The namespace the Application object lives in."""
        return self.metadata.namespace or ""

    @property
    def qualified_name(self) -> str:
        """``namespace/name``, as used in messages."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def has_multiple_sources(self) -> bool:
        """Whether the Application uses ``spec.sources``."""
        return self.spec.has_multiple_sources

    def effective_sources(self) -> list[ApplicationSource]:
        """The sources that count: ``spec.sources`` if non-empty, else ``spec.source``."""
        return self.spec.effective_sources()

    def app_instance_name(self, control_plane_namespace: str) -> str:
        """The name written into tracking labels and annotations.

        The plain name for Applications in the control-plane namespace, ``<namespace>_<name>``
        for Applications in other namespaces, so two teams may both have an app called ``web``.
        """
        if not self.namespace or self.namespace == control_plane_namespace:
            return self.name
        return f"{self.namespace}_{self.name}"

    @property
    def migration_manager(self) -> str:
        """The client-side manager a sync migrates by name; ``""`` for kubectl's own."""
        return str((self.metadata.annotations or {}).get(MIGRATION_MANAGER) or "")

    @property
    def deletion_approved_at(self) -> datetime.datetime | None:
        """When pending confirm-prunes and confirm-deletions were approved, if they were."""
        return timestamps.parse((self.metadata.annotations or {}).get(DELETION_APPROVED))

    @property
    def is_being_deleted(self) -> bool:
        """Whether the Application has a deletion timestamp."""
        return bool(self.metadata.deletion_timestamp)

    @property
    def namespace_metadata_changed(self) -> bool:
        """Whether ``managedNamespaceMetadata`` differs from what the last sync applied.

        Argo CD's rule: such an app is OutOfSync (the namespace is none of its resources, so no
        diff would show it) until a sync applies the new metadata.
        """
        policy = self.spec.sync_policy
        wanted = policy.managed_namespace_metadata if policy is not None else None
        state = self.status.operation_state if self.status is not None else None
        if wanted is None or state is None or state.sync_result is None:
            return False
        return not wanted.same_as(state.sync_result.managed_namespace_metadata)

    def with_operation_state(self, state: OperationState) -> Application:
        """The app as if ``state`` were its ``status.operationState``."""
        status = self.status or ApplicationStatus()
        return self.model_copy(
            update={"status": status.model_copy(update={"operation_state": state})}
        )


def _describe(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else "<unnamed>"
    namespace = meta.get("namespace")
    return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else str(name)


_UNION_MEMBER_TAGS = frozenset({"int", "str"})
"""Members of ``int | str`` fields, which pydantic appends to error locations; not field names."""


_SHOULD = "Input should be "


def _either(messages: list[str]) -> str:
    """``Input should be a valid integer or a valid string`` from one message per union member."""
    if len(messages) > 1 and all(m.startswith(_SHOULD) for m in messages):
        return _SHOULD + " or ".join(m.removeprefix(_SHOULD) for m in messages)
    return "; ".join(messages)


def format_validation_error(what: str, error: pydantic.ValidationError) -> str:
    """``"<what>: spec.destination: Field required; ..."``, never echoing the offending values.

    Values are left out because they may be secrets (Helm values, plugin environment).
    """
    by_path: dict[str, list[str]] = {}
    for item in error.errors(include_input=False, include_url=False):
        loc = list(item["loc"])
        if loc and loc[-1] in _UNION_MEMBER_TAGS:
            loc.pop()
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        messages = by_path.setdefault(path or "(top level)", [])
        if item["msg"] not in messages:
            messages.append(item["msg"])
    problems = [f"{path}: {_either(msgs)}" for path, msgs in by_path.items()]
    return f"{what}: " + "; ".join(problems)


def parse_application(obj: object) -> Application:
    """Validate a decoded Application manifest.

    Raises:
        InvalidInputError: The object is not a valid Application; the message names it and every
            offending field, e.g. ``Application tether/foo: spec.destination: Field required``.
    """
    if not isinstance(obj, Mapping):
        raise InvalidInputError(f"Application: expected a mapping, got {type(obj).__name__}")
    what = f"{KIND} {_describe(obj)}"
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version is not None and api_version != API_VERSION:
        raise InvalidInputError(f"{what}: apiVersion: expected {API_VERSION}, got {api_version!r}")
    if kind is not None and kind != KIND:
        raise InvalidInputError(f"{what}: kind: expected {KIND}, got {kind!r}")
    try:
        return Application.model_validate(dict(obj))
    except pydantic.ValidationError as error:
        raise InvalidInputError(format_validation_error(what, error)) from None
