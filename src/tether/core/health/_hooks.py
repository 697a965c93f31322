"""The hook annotations health reads: is an object a sync hook, or skipped (gitops-engine rules).

Sync planning owns hooks proper; health needs only these two answers, so it reads them itself.
"""

from __future__ import annotations

from tether.model import resources

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"
"""Argo CD keeps a hook alive with this finalizer until its phase ends; such an object is not
"pending deletion" for health."""

SKIP = "Skip"
HELM_NOT_A_HOOK = "crd-install"
"""Helm marks CRDs with ``helm.sh/hook: crd-install``; they are not hooks."""


def _csv(obj: resources.Manifest, key: str) -> list[str]:
    """The distinct, trimmed, non-empty comma-separated values of one annotation."""
    seen: list[str] = []
    for part in resources.annotation(obj, key).split(","):
        value = part.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def is_skipped(obj: resources.Manifest) -> bool:
    """Whether the object's only hook type is ``Skip`` (applied by nobody, counted by nobody)."""
    return _csv(obj, HOOK_ANNOTATION) == [SKIP]


def is_hook(obj: resources.Manifest) -> bool:
    """Whether the object is a sync hook (Argo CD or Helm annotation)."""
    if HOOK_ANNOTATION in resources.annotations_of(obj):
        return not is_skipped(obj)
    helm = resources.annotations_of(obj).get(HELM_HOOK_ANNOTATION)
    return helm is not None and helm != HELM_NOT_A_HOOK
