"""A cluster's Kubernetes version and API versions, in the form Argo CD gives them to renders.

Helm's ``--kube-version`` and ``--api-versions`` (``.Capabilities``), kustomize's
``--helm-kube-version``/``--helm-api-versions`` and plugins' ``KUBE_VERSION`` and
``KUBE_API_VERSIONS`` all take these, read from the destination cluster's discovery.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

_GIT_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")
"""The numeric part of ``/version``'s ``gitVersion``; what follows (``-eks-036c24b``,
``+k3s1``, ``-alpha.1``) is a vendor's or a build's and is dropped, as Argo CD drops it."""

_DIGITS = re.compile(r"^\d+")


@dataclasses.dataclass(frozen=True)
class ClusterVersions:
    """What a cluster's discovery says renders should target; empty when not known yet."""

    kube_version: str = ""
    """``v1.36.3``: ``v`` and major.minor.patch, as Argo CD 3.4 and later send it (earlier
    releases sent ``1.36``; Helm reads either as ``.Capabilities.KubeVersion``)."""
    api_versions: tuple[str, ...] = ()
    """Sorted ``group/version`` and ``group/version/Kind`` (``v1`` and ``v1/Pod`` for the
    core group) of every listable, watchable type at every version served."""


UNKNOWN = ClusterVersions()
"""Before discovery, or for a cluster not reached: renders get Helm's defaults."""


def kube_version(git_version: str, major: str = "", minor: str = "") -> str:
    """The version renders see, from ``/version``'s ``gitVersion``; empty when unreadable.

    ``major`` and ``minor`` stand in when ``gitVersion`` cannot be read (some distributions
    give ``1`` and ``27+``).
    """
    found = _GIT_VERSION.match(git_version)
    if found:
        numbers = [part for part in found.groups() if part is not None]
        return "v" + ".".join(str(int(part)) for part in numbers)
    major_digits, minor_digits = _DIGITS.match(major), _DIGITS.match(minor)
    if major_digits and minor_digits:
        return f"v{int(major_digits.group())}.{int(minor_digits.group())}"
    return ""


def api_versions(resources: Iterable[tuple[str, str, str]]) -> tuple[str, ...]:
    """Argo CD's API versions of ``(group, version, kind)`` triples, sorted.

    Each group version once and each kind in it: ``apps/v1``, ``apps/v1/Deployment``, ``v1``,
    ``v1/ConfigMap``.
    """
    entries: set[str] = set()
    for group, version, kind in resources:
        group_version = f"{group}/{version}" if group else version
        entries.add(group_version)
        entries.add(f"{group_version}/{kind}")
    return tuple(sorted(entries))
