"""Resource actions: what a user may ask of one live object (restart, pause, resume), as patches.

Argo CD ships its actions as Lua scripts per kind; tether keeps the common ones as a table
(``BUILTIN``) with the reason beside each. Custom actions from ``argocd-cm`` (``luaactions``) are
another ``ActionSource`` consulted before the table, as Argo CD lets a custom action override a
built-in.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from tether.model import timestamps
from tether.model.resources import GroupKind, Manifest, group_of, kind_of, spec_of

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
"""The pod-template annotation ``kubectl rollout restart`` sets: changing it rolls every Pod."""

MergePatch = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Offered:
    """One action as the API lists it for an object."""

    name: str
    disabled: bool = False
    icon_class: str = ""
    display_name: str = ""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What running an action writes: a merge patch of the object it ran on, new objects."""

    patch: MergePatch
    """Empty when the action changes nothing of the object."""
    creates: tuple[Manifest, ...] = ()
    """Objects to create beside it (only argocd-cm's Lua actions ask for any)."""


class ActionSource(Protocol):
    """Where actions come from: the built-in table, or the Lua actions of ``argocd-cm``."""

    def offered(self, obj: Manifest) -> Sequence[Offered] | None:
        """The actions for ``obj``; ``None`` when this source has none for its kind."""
        ...

    def run(self, obj: Manifest, action: str, now: datetime.datetime) -> Outcome | None:
        """What running ``action`` on ``obj`` writes; ``None`` when it is not offered."""
        ...


@dataclasses.dataclass(frozen=True)
class Builtin:
    """One built-in action: when it makes no sense now, and the patch it writes."""

    name: str
    reason: str
    patch: Callable[[Manifest, datetime.datetime], MergePatch]
    disabled: Callable[[Manifest], bool] = lambda _obj: False
    icon_class: str = ""
    display_name: str = ""


def _restart(_obj: Manifest, now: datetime.datetime) -> MergePatch:
    stamp = {RESTARTED_AT: timestamps.format_time(now)}
    return {"spec": {"template": {"metadata": {"annotations": stamp}}}}


def _paused(obj: Manifest) -> bool:
    return spec_of(obj).get("paused") is True


RESTART = Builtin(
    "restart",
    "a new pod-template annotation makes the controller replace every Pod, as "
    "`kubectl rollout restart` does",
    _restart,
    icon_class="fa fa-fw fa-redo",
    display_name="Restart",
)

BUILTIN: dict[GroupKind, tuple[Builtin, ...]] = {
    GroupKind("apps", "Deployment"): (
        RESTART,
        Builtin(
            "pause",
            "spec.paused stops the Deployment controller rolling out template changes",
            lambda _obj, _now: {"spec": {"paused": True}},
            disabled=_paused,
            icon_class="fa fa-fw fa-pause-circle",
            display_name="Pause",
        ),
        Builtin(
            "resume",
            "clearing spec.paused lets the paused rollout continue",
            lambda _obj, _now: {"spec": {"paused": None}},
            disabled=lambda obj: not _paused(obj),
            icon_class="fa fa-fw fa-play-circle",
            display_name="Resume",
        ),
    ),
    GroupKind("apps", "StatefulSet"): (RESTART,),
    GroupKind("apps", "DaemonSet"): (RESTART,),
}
"""Actions every installation offers, by kind (Argo CD's bundled ones for these kinds)."""


class BuiltinActions:
    """The ``BUILTIN`` table as an ``ActionSource``."""

    def __init__(self, table: Mapping[GroupKind, Sequence[Builtin]] = BUILTIN) -> None:
        self._table = table

    def _of(self, obj: Manifest) -> Sequence[Builtin] | None:
        return self._table.get(GroupKind(group_of(obj), kind_of(obj)))

    def offered(self, obj: Manifest) -> Sequence[Offered] | None:
        """The table's actions for ``obj``'s kind."""
        actions = self._of(obj)
        if actions is None:
            return None
        return [Offered(a.name, a.disabled(obj), a.icon_class, a.display_name) for a in actions]

    def run(self, obj: Manifest, action: str, now: datetime.datetime) -> Outcome | None:
        """The patch of ``action`` when it is offered and enabled for ``obj``."""
        for builtin in self._of(obj) or ():
            if builtin.name == action and not builtin.disabled(obj):
                return Outcome(builtin.patch(obj, now))
        return None


def offered(obj: Manifest, sources: Sequence[ActionSource]) -> list[Offered]:
    """The actions of the first source that has any for ``obj``'s kind (custom before built-in)."""
    for source in sources:
        found = source.offered(obj)
        if found is not None:
            return list(found)
    return []


def run_for(
    obj: Manifest, action: str, now: datetime.datetime, sources: Sequence[ActionSource]
) -> Outcome | None:
    """What running ``action`` on ``obj`` writes, from the first source offering the kind."""
    for source in sources:
        if source.offered(obj) is not None:
            return source.run(obj, action, now)
    return None
