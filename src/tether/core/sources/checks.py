"""What a source must be before any tool sees it: fields tether knows, values no tool misreads.

Everything in an Application source is tenant input. ``check`` refuses, naming the field, what
tether would not honour (an unknown field), what no process can carry (a NUL byte), and what a
tool could read as something else (a release name that is no DNS name, a value-file list helm
would split at a comma, a plugin variable name the environment cannot hold). The tool adapters
build their command lines defensively too; this is the check that fails first and says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tether.core.sources import helmvalues
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSource, ApplicationSourceHelm

RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
"""Helm's own rule for release names (``chartutil.ValidateReleaseName``): DNS labels."""

RELEASE_NAME_MAX = 53
"""Helm's limit: the name ends up in object names with suffixes of its own."""

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""A Kubernetes namespace name (RFC 1123 label), at most 63 characters."""

KUBE_VERSION = re.compile(r"^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$")
"""What ``--kube-version`` takes: a Kubernetes version, optionally with a pre-release or build."""

API_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-/]*$")
"""An API version or ``group/version/Kind`` as ``--api-versions`` takes it; no comma (a list)."""

LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
"""A label value, or the name part of a label key: at most 63 characters of this shape."""

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
"""A label key's prefix (``example.com/``): at most 253 characters."""

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A name the process environment can hold (no ``=``, no NUL)."""


def check(source: ApplicationSource, where: str = "spec.source") -> None:
    """Refuse a source tether would not honour or a tool could misread.

    Raises:
        InvalidInputError: naming the first offending field and why.
    """
    unknown = source.unknown_fields(where)
    if unknown:
        first = unknown[0]
        raise InvalidInputError(f"unknown option {first.path} (known: {', '.join(first.known)})")
    for path, text in _strings(source.to_manifest(), where):
        if "\x00" in text:
            raise InvalidInputError(f"{path}: contains a NUL byte")
    if source.helm is not None:
        _check_helm(source.helm, f"{where}.helm")
    if source.kustomize is not None:
        _check_namespace(source.kustomize.namespace, f"{where}.kustomize.namespace")
        for key, value in (source.kustomize.common_labels or {}).items():
            _check_label(key, value, f"{where}.kustomize.commonLabels")
        _check_versions(
            source.kustomize.kube_version, source.kustomize.api_versions, f"{where}.kustomize"
        )
    if source.plugin is not None:
        for index, entry in enumerate(source.plugin.env or []):
            if not ENV_NAME.match(entry.name):
                raise InvalidInputError(
                    f"{where}.plugin.env[{index}].name: {entry.name!r} is not a variable name"
                )


def _check_helm(helm: ApplicationSourceHelm, where: str) -> None:
    name = helm.release_name
    if name is not None and (len(name) > RELEASE_NAME_MAX or not RELEASE_NAME.match(name)):
        raise InvalidInputError(
            f"{where}.releaseName: {name!r} is not a release name (lower-case DNS labels, at "
            f"most {RELEASE_NAME_MAX} characters)"
        )
    _check_namespace(helm.namespace, f"{where}.namespace")
    for index, value_file in enumerate(helm.value_files or []):
        if "," in value_file:
            # helm's --values is a comma-separated list: one entry would name two files.
            raise InvalidInputError(f"{where}.valueFiles[{index}]: {value_file!r} holds a comma")
    for index, parameter in enumerate(helm.parameters or []):
        helmvalues.key_path(parameter.name or "", f"{where}.parameters[{index}].name")
    for index, file_parameter in enumerate(helm.file_parameters or []):
        helmvalues.key_path(file_parameter.name or "", f"{where}.fileParameters[{index}].name")
    _check_versions(helm.kube_version, helm.api_versions, where)


def _check_namespace(namespace: str | None, path: str) -> None:
    # A namespace no API server would take fails here, named, not later in the tool's output.
    if namespace and (len(namespace) > 63 or not DNS_LABEL.match(namespace)):
        raise InvalidInputError(f"{path}: {namespace[:80]!r} is not a namespace name")


def _check_label(key: str, value: str, path: str) -> None:
    # Labels no API server would take (and kustomize would print as something else, such as
    # a number too long to read back) are refused by name before the tool runs.
    prefix, _, name = key.rpartition("/")
    if (
        not name
        or len(name) > 63
        or not LABEL_NAME.match(name)
        or (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)))
    ):
        raise InvalidInputError(f"{path}: {key[:80]!r} is not a label key")
    if len(value) > 63 or not LABEL_NAME.match(value):
        raise InvalidInputError(f"{path}.{key[:80]}: {value[:80]!r} is not a label value")


def _check_versions(kube_version: str | None, api_versions: list[str] | None, where: str) -> None:
    if kube_version and not KUBE_VERSION.match(kube_version):
        raise InvalidInputError(f"{where}.kubeVersion: {kube_version!r} is not a version")
    for index, api in enumerate(api_versions or []):
        if not API_VERSION.match(api):
            raise InvalidInputError(f"{where}.apiVersions[{index}]: {api!r} is not an API version")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value (keys too), with the path it was found at."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
