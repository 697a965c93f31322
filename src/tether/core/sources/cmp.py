"""Config-management plugins as Argo CD declares them: ``ConfigManagementPlugin`` files.

The operator's files (Argo CD mounts one per sidecar as ``plugin.yaml``) become ``PluginSpec``s.
Commands are argv lists the operator wrote; a field tether does not honour is warned about by
name, and a file that cannot be honoured is left out whole, never half applied. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tether.core.sources.rendering import PluginSpec

API_VERSION = "argoproj.io/v1alpha1"
KIND = "ConfigManagementPlugin"

SPEC_FIELDS: Mapping[str, str] = {
    # field of spec -> what tether does with it
    "version": "appended to the name (<name>-<version>), as Argo CD does",
    "init": "run before generate, in the source's copy",
    "generate": "run to print the manifests",
    "discover": "selects the plugin for a source naming none (fileName, find.glob, find.command)",
    "preserveFileMode": "keeps the repository's file modes in the plugin's copy",
    "parameters": "ignored: announcements for Argo CD's UI; tenants' values still arrive as "
    "PARAM_* variables",
}

SPEC_FIELDS_REFUSED: Mapping[str, str] = {
    # field of spec -> why a file setting it is not loaded
    "provideGitCreds": "tether never hands repository credentials to a plugin",
    "lockRepo": "each render runs in a copy of its own; nothing to lock",
}

_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


def parse_plugin(doc: object, where: str) -> tuple[PluginSpec | None, list[str]]:
    """One ``ConfigManagementPlugin`` document as a plugin, or ``None`` and why not.

    The warnings name ``where`` (the file) and the field.
    """
    warnings: list[str] = []
    if not isinstance(doc, dict):
        return None, [f"{where}: not a YAML object"]
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
        return None, [f"{where}: not an {API_VERSION} {KIND}"]
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not _NAME.match(name):
        return None, [f"{where}: metadata.name must be a lower-case name"]
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return None, [f"{where}: spec must be an object"]
    for field in sorted(spec):
        if field in SPEC_FIELDS_REFUSED and spec[field]:
            return None, [f"{where}: spec.{field} is not supported ({SPEC_FIELDS_REFUSED[field]})"]
        if field not in SPEC_FIELDS and field not in SPEC_FIELDS_REFUSED:
            warnings.append(f"{where}: spec.{field} is not a field tether knows; ignored")
    if spec.get("parameters"):
        warnings.append(f"{where}: spec.parameters {SPEC_FIELDS['parameters']}")
    version = spec.get("version", "")
    if not isinstance(version, str) or (version and not _NAME.match(version.lower())):
        return None, [f"{where}: spec.version must be a short name such as v1.0"]
    try:
        generate = _command(spec.get("generate"), "spec.generate", required=True)
        init = _command(spec.get("init"), "spec.init", required=False)
        file_name, glob, find_command = _discover(spec.get("discover"))
        preserve = spec.get("preserveFileMode", False)
        if not isinstance(preserve, bool):
            raise ValueError("spec.preserveFileMode: expected true or false")
    except ValueError as err:
        return None, [*warnings, f"{where}: {err}"]
    plugin = PluginSpec(
        name=f"{name}-{version}" if version else name,
        generate=generate,
        init=init,
        discover=glob,
        discover_file_name=file_name,
        discover_command=find_command,
        preserve_file_mode=preserve,
    )
    return plugin, warnings


def parse_plugins(
    files: Sequence[tuple[str, Sequence[object]]],
) -> tuple[tuple[PluginSpec, ...], list[str]]:
    """Every plugin of ``files`` (name, YAML documents), in order; a repeated name is left out."""
    plugins: list[PluginSpec] = []
    warnings: list[str] = []
    for where, docs in files:
        for index, doc in enumerate(docs):
            shown = where if len(docs) == 1 else f"{where} document {index + 1}"
            plugin, found = parse_plugin(doc, shown)
            warnings += found
            if plugin is None:
                continue
            if any(p.name == plugin.name for p in plugins):
                warnings.append(f"{shown}: a plugin named {plugin.name!r} is already declared")
                continue
            plugins.append(plugin)
    return tuple(plugins), warnings


def _command(value: object, where: str, *, required: bool) -> tuple[str, ...]:
    """``command`` + ``args`` as one argv, as Argo CD runs them (no shell unless named)."""
    if value is None:
        if required:
            raise ValueError(f"{where}.command: required")
        return ()
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object with command and args")
    unknown = sorted(set(value) - {"command", "args"})
    if unknown:
        raise ValueError(f"{where}: unknown fields {', '.join(unknown)}")
    command = _strings(value.get("command"), f"{where}.command")
    if not command or not command[0]:
        raise ValueError(f"{where}.command: needs a program")
    return (*command, *_strings(value.get("args", []), f"{where}.args"))


def _discover(value: object) -> tuple[str, str, tuple[str, ...]]:
    """``discover``: (fileName, find.glob, find.command + args)."""
    if value is None:
        return "", "", ()
    if not isinstance(value, dict):
        raise ValueError("spec.discover: expected an object")
    unknown = sorted(set(value) - {"fileName", "find"})
    if unknown:
        raise ValueError(f"spec.discover: unknown fields {', '.join(unknown)}")
    file_name = value.get("fileName", "")
    if not isinstance(file_name, str):
        raise ValueError("spec.discover.fileName: expected a string")
    find: Any = value.get("find") or {}
    if not isinstance(find, dict):
        raise ValueError("spec.discover.find: expected an object")
    unknown = sorted(set(find) - {"glob", "command", "args"})
    if unknown:
        raise ValueError(f"spec.discover.find: unknown fields {', '.join(unknown)}")
    glob = find.get("glob", "")
    if not isinstance(glob, str):
        raise ValueError("spec.discover.find.glob: expected a string")
    command: tuple[str, ...] = ()
    if find.get("command"):
        command = _command(
            {"command": find["command"], "args": find.get("args", [])},
            "spec.discover.find",
            required=True,
        )
    return file_name, glob, command


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of strings")
    if any("\x00" in v for v in value):
        raise ValueError(f"{where}: contains a NUL byte")
    return tuple(value)
