"""The effects a sync step asks for, as data: the driver performs them, the core never does.

Every action names its task (``key`` and ``phase``) so its outcome can be recorded with
``syncresults.record``.
"""

from __future__ import annotations

import dataclasses
import enum

from tether.core.sync.clientside import KUBECTL_MANAGER
from tether.core.sync.options import Propagation
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import SyncPhase


@dataclasses.dataclass(frozen=True)
class DryRun:
    """Validate one object with a dry-run apply before the operation writes anything."""

    key: ResourceKey
    phase: SyncPhase
    manifest: Manifest
    strict: bool = True
    """Fields the schema does not know fail the check (``Validate=false`` turns it off)."""
    replace: bool = False
    """The sync will create or replace the object (``Replace=true``), not apply it: the check
    makes that write, since the API server validates the two differently."""
    server_side: bool = True
    """As :attr:`Apply.server_side`: the check makes the client-side write when it is off."""


@dataclasses.dataclass(frozen=True)
class Apply:
    """Apply one object; ``replace`` means ``kubectl replace`` of an existing object."""

    key: ResourceKey
    phase: SyncPhase
    manifest: Manifest
    force: bool = False
    replace: bool = False
    dry_run: bool = False
    hook: bool = False
    validates: bool = False
    """The write stands in for the object's dry run (the only object of the sync): a failure is
    recorded as a failed dry run."""
    strict: bool = True
    """As :attr:`DryRun.strict`."""
    server_side: bool = True
    """Server-side apply; off (``ServerSideApply=false``), ``kubectl apply``'s client-side
    three-way patch from the last-applied annotation."""
    migrate: str = KUBECTL_MANAGER
    """Before a server-side apply, the fields of this client-side manager and of every ``Update``
    manager that wrote the last-applied annotation move to tether's apply entry, so fields Git
    dropped are removed (``ClientSideApplyMigration``; the manager is the Application's
    ``client-side-apply-migration-manager`` annotation when set). ``""`` migrates nothing."""


@dataclasses.dataclass(frozen=True)
class Create:
    """Create an object that does not exist (``Replace=true`` with nothing live)."""

    key: ResourceKey
    phase: SyncPhase
    manifest: Manifest
    dry_run: bool = False
    hook: bool = False
    validates: bool = False
    """As :attr:`Apply.validates`."""
    strict: bool = True
    """As :attr:`DryRun.strict`."""


@dataclasses.dataclass(frozen=True)
class Update:
    """A plain update carrying the live ``resourceVersion``.

    ``Replace=true`` on a CRD or a Namespace becomes this: a replace could delete and
    re-create it, taking every custom resource or every namespaced object with it.
    """

    key: ResourceKey
    phase: SyncPhase
    manifest: Manifest
    dry_run: bool = False
    hook: bool = False
    strict: bool = True
    """As :attr:`DryRun.strict`."""


@dataclasses.dataclass(frozen=True)
class Prune:
    """Delete a live object that left Git."""

    key: ResourceKey
    phase: SyncPhase
    propagation: Propagation = Propagation.FOREGROUND


class DeleteReason(enum.Enum):
    """Why a hook's object is deleted; decides what its result records afterwards."""

    BEFORE_CREATION = "BeforeHookCreation"
    """The previous run's object goes before this run creates it again."""
    POLICY = "policy"
    """HookSucceeded / HookFailed cleanup when the operation ends."""
    TERMINATE = "terminate"
    """The operation was terminated while the hook ran."""


@dataclasses.dataclass(frozen=True)
class DeleteHook:
    """Delete a hook's live object (``NotFound`` counts as success)."""

    key: ResourceKey
    phase: SyncPhase
    reason: DeleteReason
    propagation: Propagation = Propagation.FOREGROUND


@dataclasses.dataclass(frozen=True)
class RemoveHookFinalizer:
    """Remove ``argocd.argoproj.io/hook-finalizer`` from a hook's live object."""

    key: ResourceKey
    phase: SyncPhase


@dataclasses.dataclass(frozen=True)
class Wait:
    """Nothing to do until the cluster changes (health, deletion) or an approval arrives."""

    reason: str


Write = Apply | Create | Update
"""Actions that write a desired object."""

Action = DryRun | Apply | Create | Update | Prune | DeleteHook | RemoveHookFinalizer | Wait


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What happened when the driver performed one action."""

    ok: bool
    message: str = ""
