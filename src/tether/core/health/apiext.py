"""Health of API extensions: APIService (Argo CD's Go check) and CRDs (Argo CD's bundled Lua)."""

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import Rule, degraded, healthy, progressing
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health


def api_service(obj: resources.Manifest) -> Health:
    """An APIService is Healthy when Available, Progressing until then."""
    available = resources.condition(obj, "Available")
    if available is None:
        return progressing("Waiting to be processed")
    detail = f"{_read.text(available, 'reason')}: {_read.text(available, 'message')}"
    return healthy(detail) if available.get("status") == "True" else progressing(detail)


def custom_resource_definition(obj: resources.Manifest) -> Health:
    """A CRD is Healthy once Established with accepted names and a structural schema."""
    if resources.is_being_deleted(obj):
        return progressing("CRD is terminating")
    entries = _read.conditions(obj)
    if not entries:
        return progressing("Waiting for the CRD's status conditions")
    established: bool | None = None
    for entry in entries:
        message = _read.text(entry, "message")
        if _read.condition_is(entry, "Terminating", "True"):
            return progressing(f"CRD is terminating: {message}")
        if _read.condition_is(entry, "NamesAccepted", "False"):
            return degraded(f"CRD names were not accepted: {message}")
        if _read.condition_is(entry, "NonStructuralSchema", "True"):
            return degraded(f"CRD schema is not structural: {message}")
        if entry.get("type") == "Established":
            if entry.get("status") == "True":
                established = True
            elif entry.get("reason") == "Installing":
                return progressing("CRD is being installed")
            else:
                established = False
    if established is None:
        # Unlike Argo CD's Lua: the API server's controllers add their conditions one by one
        # (the API-approval one may come first), so a young CRD without an Established
        # condition yet is on its way, not broken. Judging it Degraded failed app-of-apps waves.
        return progressing("Waiting for the CRD to be established")
    if not established:
        return degraded("CRD is not established")
    return healthy("CRD is established")


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("apiregistration.k8s.io", "APIService"): Rule(
        api_service, "Argo CD Go check", frozenset({"v1", "v1beta1"})
    ),
    GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"): Rule(
        custom_resource_definition, "Argo CD bundled Lua"
    ),
}
