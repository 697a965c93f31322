"""Health of model serving: KServe InferenceService and Knative Service, as Argo CD's Lua says.

Source: argo-cd ``resource_customizations/serving.{kserve.io,knative.dev}/*/health.lua``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.core.health import _read
from tether.core.health._rule import Rule, degraded, healthy, progressing, suspended
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health

KNATIVE_READY = frozenset({"ConfigurationsReady", "RoutesReady", "Ready"})
"""The three conditions a Knative Service must have True to serve its latest revision."""


def _describe(entry: Mapping[str, Any]) -> str:
    """One unhealthy condition as a phrase: ``Ready is False (reason): message``."""
    phrase = f"{_read.text(entry, 'type')} is {_read.text(entry, 'status')}"
    if reason := _read.text(entry, "reason"):
        phrase += f" ({reason})"
    if message := _read.text(entry, "message"):
        phrase += f": {message}"
    return phrase


def inference_service(obj: resources.Manifest) -> Health:
    """Stopped is Suspended; a failed model load is Degraded; anything not True is Progressing."""
    if not _read.has_mapping(obj, "status"):
        return progressing("Waiting for the InferenceService to report status")
    status = resources.status_of(obj)
    transition = _read.text(status, "modelStatus", "transitionStatus")
    # A model that is not UpToDate is loading (InProgress) or failed to (BlockedByFailedLoad,
    # InvalidSpec); a missing transitionStatus says nothing either way.
    loading = transition == "InProgress"
    failed_load = bool(transition) and transition not in ("UpToDate", "InProgress")
    problems = [f"model transition is {transition}"] if transition not in ("", "UpToDate") else []
    if _read.node(status, "conditions") is None:
        return progressing("Waiting for the InferenceService to report status")
    entries = _read.conditions(obj)
    if any(_read.condition_is(entry, "Stopped", "True") for entry in entries):
        return suspended("InferenceService is stopped")
    # Stopped=False is the normal state, so it never counts against health.
    unhealthy = [e for e in entries if e.get("type") != "Stopped" and e.get("status") != "True"]
    problems += [_describe(entry) for entry in unhealthy]
    not_ready = [e for e in unhealthy if e.get("status") == "False"] + [
        e for e in entries if e.get("status") == "Unknown"
    ]
    if not loading and not failed_load and not not_ready:
        return healthy("InferenceService is healthy")
    if failed_load:
        return degraded("; ".join(problems))
    # Argo CD keeps even False conditions Progressing: KServe retries until the model serves.
    return progressing("; ".join(problems))


def knative_service(obj: resources.Manifest) -> Health:
    """Healthy when its three readiness conditions are True; Degraded when any is False."""
    if _read.node(resources.status_of(obj), "conditions") is None:
        return progressing("Waiting for status update")
    ready = failed = waiting = 0
    problems: list[str] = []
    for entry in _read.conditions(obj):
        state = entry.get("status")
        if state == "True" and entry.get("type") in KNATIVE_READY:
            ready += 1
        elif state in ("False", "Unknown"):
            problems.append(_describe(entry))
            failed += state == "False"
            waiting += state == "Unknown"
    if ready == len(KNATIVE_READY) and not failed and not waiting:
        return healthy("Knative Service is healthy")
    if failed:
        return degraded("; ".join(problems))
    return progressing("; ".join(problems))


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("serving.kserve.io", "InferenceService"): Rule(
        inference_service, "Argo CD bundled Lua"
    ),
    GroupKind("serving.knative.dev", "Service"): Rule(knative_service, "Argo CD bundled Lua"),
}
