"""Health of the networking kinds: Service (LoadBalancer) and Ingress (Argo CD's Go checks)."""

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import V1, Rule, healthy, progressing
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health


def service(obj: resources.Manifest) -> Health:
    """Only a LoadBalancer Service waits: for the cloud to give it an address."""
    if _read.text(resources.spec_of(obj), "type") != "LoadBalancer":
        return healthy()
    if _read.count(resources.status_of(obj), "loadBalancer", "ingress") > 0:
        return healthy()
    return progressing("Waiting for the load balancer to get an address")


def ingress(obj: resources.Manifest) -> Health:
    """An Ingress is Healthy once its controller has published an address."""
    if _read.count(resources.status_of(obj), "loadBalancer", "ingress") > 0:
        return healthy()
    return progressing("Waiting for the ingress controller to publish an address")


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("", "Service"): Rule(service, "Argo CD Go check", V1),
    # Argo CD reads Ingress untyped, so every version of both groups is accepted.
    GroupKind("networking.k8s.io", "Ingress"): Rule(ingress, "Argo CD Go check"),
    GroupKind("extensions", "Ingress"): Rule(ingress, "Argo CD Go check (pre-1.22 group)"),
}
