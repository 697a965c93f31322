"""Health of cert-manager kinds, as Argo CD's bundled Lua judges them: by the Ready condition."""

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import Check, Rule, degraded, healthy, progressing
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health


def _by_ready(obj: resources.Manifest, waiting: str) -> Health:
    """The first Ready condition decides; without one the object is still being set up."""
    for entry in _read.conditions(obj):
        if _read.condition_is(entry, "Ready", "False"):
            return degraded(_read.text(entry, "message"))
        if _read.condition_is(entry, "Ready", "True"):
            return healthy(_read.text(entry, "message"))
    return progressing(waiting)


def ready_check(waiting: str) -> Check:
    """A check that judges by Ready and says ``waiting`` until there is one."""

    def check(obj: resources.Manifest) -> Health:
        return _by_ready(obj, waiting)

    return check


def certificate(obj: resources.Manifest) -> Health:
    """A Certificate being (re)issued is Progressing, even if the old one is still Ready."""
    for entry in _read.conditions(obj):
        if _read.condition_is(entry, "Issuing", "True"):
            return progressing(_read.text(entry, "message"))
    return _by_ready(obj, "Waiting for certificate")


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("cert-manager.io", "Certificate"): Rule(certificate, "Argo CD bundled Lua"),
    GroupKind("cert-manager.io", "Issuer"): Rule(
        ready_check("Initializing issuer"), "Argo CD bundled Lua"
    ),
    GroupKind("cert-manager.io", "ClusterIssuer"): Rule(
        ready_check("Initializing ClusterIssuer"), "Argo CD bundled Lua"
    ),
    # The pre-1.0 group: its Certificate check predates the Issuing condition.
    GroupKind("certmanager.k8s.io", "Certificate"): Rule(
        ready_check("Waiting for certificate"), "Argo CD bundled Lua (legacy group)"
    ),
    GroupKind("certmanager.k8s.io", "Issuer"): Rule(
        ready_check("Initializing issuer"), "Argo CD bundled Lua (legacy group)"
    ),
}
