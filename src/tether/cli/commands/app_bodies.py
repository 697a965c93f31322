"""The request bodies of the remote ``tether app`` commands, built from their flags; pure.

``create`` and ``set`` share one set of spec flags (``SpecFlags``) laid over a spec (empty for
a new app); ``unset`` removes what its flags name. Specs are Argo CD's JSON (lowerCamel); the
server validates what it is sent.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from tether.model.errors import InvalidInputError
from tether.model.operation import SyncOperation

AUTOMATED = frozenset({"automated", "auto", "automatic"})
MANUAL = frozenset({"manual", "none"})
SYNC_POLICIES = ("manual", "none", "automated", "auto", "automatic")
"""``--sync-policy`` values, with Argo CD's aliases."""


def sync_request(operation: SyncOperation) -> dict[str, Any]:
    """The body of ``POST .../sync`` for an operation (SyncRequest's names differ a little)."""
    manifest = operation.to_manifest()
    body: dict[str, Any] = {}
    for key, value in manifest.items():
        if key == "syncStrategy":
            body["strategy"] = value
        elif key == "syncOptions":
            body["syncOptions"] = {"items": list(value)}
        else:
            body[key] = value
    return body


def parameter(text: str) -> tuple[str, str]:
    """``name=value`` of ``-p`` (the value may hold ``=``).

    Raises:
        InvalidInputError: no ``=`` or no name.
    """
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise InvalidInputError(f"-p {text!r}: expected NAME=VALUE")
    return name, value


def labels(texts: tuple[str, ...]) -> dict[str, str]:
    """``--label k=v`` (repeatable) as a mapping."""
    found = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--label {text!r}: expected KEY=VALUE")
        found[key] = value
    return found


@dataclasses.dataclass(frozen=True)
class SpecFlags:
    """What ``create`` and ``set`` may say about a spec; ``None`` and empty say nothing."""

    repo: str = ""
    path: str = ""
    revision: str = ""
    chart: str = ""
    release_name: str = ""
    parameters: tuple[str, ...] = ()
    """``-p NAME=VALUE``: Helm parameters."""
    string_parameters: tuple[str, ...] = ()
    """``--helm-set-string NAME=VALUE``: Helm parameters forced to strings."""
    values_files: tuple[str, ...] = ()
    dest_server: str = ""
    dest_name: str = ""
    dest_namespace: str = ""
    project: str = ""
    sync_policy: str = ""
    auto_prune: bool | None = None
    self_heal: bool | None = None
    sync_options: tuple[str, ...] = ()
    source_position: int = 1
    """Which source of a multi-source app the source flags change (1-based)."""

    def apply(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """``spec`` with these flags laid over it (a copy)."""
        out = copy.deepcopy(dict(spec))
        self._apply_source(out)
        given = {"server": self.dest_server, "name": self.dest_name}
        given["namespace"] = self.dest_namespace
        destination = {**(out.get("destination") or {}), **{k: v for k, v in given.items() if v}}
        if self.dest_server and not self.dest_name:
            destination.pop("name", None)  # a destination names a server or a name, not both
        if self.dest_name and not self.dest_server:
            destination.pop("server", None)
        if destination:
            out["destination"] = destination
        if self.project:
            out["project"] = self.project
        self._apply_policy(out)
        return out

    def _source_flags_given(self) -> bool:
        return any(
            (
                self.repo,
                self.path,
                self.revision,
                self.chart,
                self.release_name,
                self.parameters,
                self.string_parameters,
                self.values_files,
            )
        )

    def _apply_source(self, spec: dict[str, Any]) -> None:
        if not self._source_flags_given():
            return
        source = source_at(spec, self.source_position)
        for key, value in (
            ("repoURL", self.repo),
            ("path", self.path),
            ("targetRevision", self.revision),
            ("chart", self.chart),
        ):
            if value:
                source[key] = value
        if not (
            self.parameters or self.string_parameters or self.values_files or self.release_name
        ):
            return
        helm = source.setdefault("helm", {})
        if self.release_name:
            helm["releaseName"] = self.release_name
        for file in self.values_files:
            files = helm.setdefault("valueFiles", [])
            if file not in files:
                files.append(file)
        given = [(parameter(p), False) for p in self.parameters]
        given += [(parameter(p), True) for p in self.string_parameters]
        for (name, value), force in given:
            entries = [e for e in helm.get("parameters") or [] if e.get("name") != name]
            entry: dict[str, Any] = {"name": name, "value": value}
            if force:
                entry["forceString"] = True
            helm["parameters"] = [*entries, entry]

    def _apply_policy(self, spec: dict[str, Any]) -> None:
        policy = dict(spec.get("syncPolicy") or {})
        wanted = self.sync_policy.lower()
        if wanted and wanted not in SYNC_POLICIES:
            raise InvalidInputError(
                f"--sync-policy {self.sync_policy!r}: one of {', '.join(SYNC_POLICIES)}"
            )
        if wanted in MANUAL:
            policy.pop("automated", None)
        elif wanted in AUTOMATED:
            policy.setdefault("automated", {})
        if self.auto_prune is not None or self.self_heal is not None:
            if "automated" not in policy:
                raise InvalidInputError("--auto-prune and --self-heal need --sync-policy automated")
            automated = dict(policy["automated"] or {})
            if self.auto_prune is not None:
                automated["prune"] = self.auto_prune
            if self.self_heal is not None:
                automated["selfHeal"] = self.self_heal
            policy["automated"] = automated
        for option in self.sync_options:
            options = policy.setdefault("syncOptions", [])
            key = option.partition("=")[0]
            options[:] = [o for o in options if o.partition("=")[0] != key] + [option]
        if policy:
            spec["syncPolicy"] = policy
        else:
            spec.pop("syncPolicy", None)


def source_at(spec: dict[str, Any], position: int) -> dict[str, Any]:
    """The source a flag changes, created when a new app has none (in ``spec``, by reference).

    Raises:
        InvalidInputError: ``position`` names no source of a multi-source app.
    """
    sources = spec.get("sources")
    if sources:
        if not 1 <= position <= len(sources):
            raise InvalidInputError(
                f"--source-position {position}: the app has {len(sources)} sources"
            )
        found: dict[str, Any] = sources[position - 1]
        return found
    if position != 1:
        raise InvalidInputError(f"--source-position {position}: the app has one source")
    source: dict[str, Any] = spec.setdefault("source", {})
    return source


def create_body(
    name: str, namespace: str, flags: SpecFlags, app_labels: Mapping[str, str]
) -> dict[str, Any]:
    """The Application ``create`` sends from flags (project ``default`` unless given)."""
    spec = flags.apply({"project": "default"})
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if app_labels:
        metadata["labels"] = dict(app_labels)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": spec,
    }


@dataclasses.dataclass(frozen=True)
class UnsetFlags:
    """What ``unset`` removes."""

    parameters: tuple[str, ...] = ()
    """``-p NAME``: Helm parameters, by name."""
    values_files: tuple[str, ...] = ()
    revision: bool = False
    path: bool = False
    release_name: bool = False
    sync_policy: bool = False
    """Turn automated sync off."""
    sync_options: tuple[str, ...] = ()
    """Sync options, by key (``CreateNamespace``) or whole (``CreateNamespace=true``)."""
    source_position: int = 1

    def apply(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """``spec`` without what these flags name (a copy); unknown names are ignored."""
        out = copy.deepcopy(dict(spec))
        source = source_at(out, self.source_position)
        if self.revision:
            source.pop("targetRevision", None)
        if self.path:
            source.pop("path", None)
        helm = source.get("helm")
        if isinstance(helm, dict):
            if self.release_name:
                helm.pop("releaseName", None)
            if self.parameters:
                kept = [
                    p for p in helm.get("parameters") or [] if p.get("name") not in self.parameters
                ]
                _set_or_drop(helm, "parameters", kept)
            if self.values_files:
                files = [f for f in helm.get("valueFiles") or [] if f not in self.values_files]
                _set_or_drop(helm, "valueFiles", files)
            if not helm:
                source.pop("helm")
        policy = out.get("syncPolicy")
        if isinstance(policy, dict):
            if self.sync_policy:
                policy.pop("automated", None)
            if self.sync_options:
                gone = set(self.sync_options)
                kept = [
                    o
                    for o in policy.get("syncOptions") or []
                    if o not in gone and o.partition("=")[0] not in gone
                ]
                _set_or_drop(policy, "syncOptions", kept)
            if not policy:
                out.pop("syncPolicy")
        return out


def _set_or_drop(holder: dict[str, Any], key: str, values: list[Any]) -> None:
    if values:
        holder[key] = values
    else:
        holder.pop(key, None)


PATCH_TYPES = ("json", "merge")
