"""Directory sources: plain YAML, JSON and Jsonnet files, optionally recursive and glob-filtered.

Files are read in lexical path order, as Argo CD does; sizes are checked before parsing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from tether.adapters.render import _jail, jsonnet
from tether.core import globs
from tether.core.sources import kubeyaml, rendering
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSourceDirectory, ApplicationSourceJsonnet

MANIFEST_EXTENSIONS: dict[str, str] = {
    # Extension → how it is read; everything else (README.md, .libsonnet, scripts) is ignored.
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".jsonnet": "jsonnet",  # .libsonnet files are only imported, never evaluated on their own
}


@dataclasses.dataclass(frozen=True)
class _File:
    rel: str
    """Relative to the source directory: what include/exclude globs see."""
    shown: str
    """Relative to the repository root: what errors name."""
    full: str
    kind: str


async def render(
    request: rendering.RenderRequest,
    directory: str,
    *,
    limits: kubeyaml.Limits,
    jsonnet_timeout_s: float,
) -> list[dict[str, Any]]:
    """Render every manifest file of a directory source, in sorted path order."""
    options = request.source.directory or ApplicationSourceDirectory()
    settings = options.jsonnet or ApplicationSourceJsonnet()
    files = await asyncio.to_thread(_select, request.repo_root, directory, options, limits)
    libs = [
        _jail.resolve(request.repo_root, lib, field="spec.source.directory.jsonnet.libs")
        for lib in settings.libs or []
    ]
    jsonnet_files = [file for file in files if file.kind == "jsonnet"]
    outputs = await jsonnet.evaluate(
        [file.full for file in jsonnet_files],
        root=request.repo_root,
        ext_vars=settings.ext_vars or [],
        tlas=settings.tlas or [],
        libs=libs,
        timeout_s=jsonnet_timeout_s,
    )
    evaluated = dict(zip((file.full for file in jsonnet_files), outputs, strict=True))
    # Reading and parsing leave the event loop: a big directory takes seconds of CPU.
    return await asyncio.to_thread(_parse_all, files, evaluated, limits)


def _parse_all(
    files: Sequence[_File], evaluated: Mapping[str, str], limits: kubeyaml.Limits
) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for file in files:
        if file.kind == "jsonnet":
            objects.extend(kubeyaml.parse_json(evaluated[file.full], file.shown, limits))
        elif file.kind == "json":
            objects.extend(kubeyaml.parse_json(_read(file.full), file.shown, limits))
        else:
            objects.extend(kubeyaml.parse_yaml(_read(file.full), file.shown, limits))
    return objects


def _select(
    root: str, directory: str, options: ApplicationSourceDirectory, limits: kubeyaml.Limits
) -> list[_File]:
    real_root = os.path.realpath(root)
    selected: list[_File] = []
    total = 0
    for current, dirs, names in os.walk(directory):
        dirs.sort()
        # Hidden directories (.git, .github) hold tooling, not manifests.
        dirs[:] = [d for d in dirs if not d.startswith(".")] if options.recurse else []
        for name in sorted(names):
            kind = MANIFEST_EXTENSIONS.get(os.path.splitext(name)[1])
            if kind is None or name.startswith("."):
                continue
            full = os.path.join(current, name)
            rel = os.path.relpath(full, directory)
            shown = os.path.relpath(full, real_root)
            if options.include and not globs.match(options.include, rel):
                continue
            if options.exclude and globs.match(options.exclude, rel):
                continue
            try:
                size = os.stat(full).st_size  # follows links; the jail checked where they lead
            except OSError as err:
                raise InvalidInputError(f"{shown}: cannot be read ({err.strerror})") from None
            if size > limits.max_file_bytes:
                raise InvalidInputError(
                    f"{shown}: {size} bytes exceeds the limit of {limits.max_file_bytes} bytes"
                )
            total += size
            if total > limits.max_total_bytes:
                raise InvalidInputError(
                    f"manifests exceed {limits.max_total_bytes} bytes (at {shown})"
                )
            selected.append(_File(rel, shown, full, kind))
            if len(selected) > limits.max_files:
                raise InvalidInputError(f"more than {limits.max_files} manifest files")
    # Lexical order by path components, as Go's filepath.Walk (and so Argo CD) visits files.
    return sorted(selected, key=lambda file: file.rel.split(os.sep))


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
