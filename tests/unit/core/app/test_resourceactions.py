"""Built-in resource actions: which are offered, when they are disabled, the patches they write."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from tether.core.app import resourceactions

NOW = datetime.datetime(2026, 12, 7, 10, 0, 5, 123456, tzinfo=datetime.UTC)
SOURCES = (resourceactions.BuiltinActions(),)


def _patch(
    obj: Mapping[str, Any],
    action: str,
    now: datetime.datetime,
    sources: tuple[resourceactions.ActionSource, ...],
) -> resourceactions.MergePatch | None:
    """The patch of an action that creates nothing (None when it is not available)."""
    outcome = resourceactions.run_for(obj, action, now, sources)
    if outcome is None:
        return None
    assert outcome.creates == ()
    return outcome.patch


def _obj(kind: str, group: str = "apps", **spec: object) -> dict[str, object]:
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}


def test_workloads_offer_restart_which_stamps_the_pod_template_with_the_time():
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        names = [a.name for a in resourceactions.offered(_obj(kind), SOURCES)]
        assert "restart" in names
        patch = _patch(_obj(kind), "restart", NOW, SOURCES)
        assert patch == {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {
                            resourceactions.RESTARTED_AT: "2026-12-07T10:00:05Z",
                        }
                    }
                }
            }
        }


def test_pause_and_resume_are_offered_only_when_they_change_something():
    running = {a.name: a.disabled for a in resourceactions.offered(_obj("Deployment"), SOURCES)}
    paused = {
        a.name: a.disabled
        for a in resourceactions.offered(_obj("Deployment", paused=True), SOURCES)
    }
    assert running == {"restart": False, "pause": False, "resume": True}
    assert paused == {"restart": False, "pause": True, "resume": False}
    assert _patch(_obj("Deployment"), "pause", NOW, SOURCES) == {"spec": {"paused": True}}
    assert _patch(_obj("Deployment"), "resume", NOW, SOURCES) is None
    resumed = _patch(_obj("Deployment", paused=True), "resume", NOW, SOURCES)
    assert resumed == {"spec": {"paused": None}}


def test_kinds_without_actions_and_unknown_actions_offer_nothing():
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    assert resourceactions.offered(config, SOURCES) == []
    assert _patch(config, "restart", NOW, SOURCES) is None
    assert _patch(_obj("Deployment"), "explode", NOW, SOURCES) is None
    # The same kind name in another group is another kind.
    assert resourceactions.offered(_obj("Deployment", group="example.com"), SOURCES) == []


def test_every_builtin_action_says_why_it_exists():
    for actions in resourceactions.BUILTIN.values():
        for action in actions:
            assert len(action.reason) > 20
