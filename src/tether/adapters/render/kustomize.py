"""Kustomize sources: the real ``kustomize build``, with Argo CD's inline options as an overlay.

The checkout is read-only, so inline options go into a temporary overlay kustomization outside it
that references the source directory by relative path; ``../base`` references keep working
because the source kustomization itself is untouched. Local references are jailed first.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

import orjson

from tether.adapters import _process
from tether.adapters._network import resolve_host
from tether.adapters.commandline import CommandLine
from tether.adapters.render import _jail
from tether.core.sources import kubeyaml, remote, rendering
from tether.core.sources.repocreds import redact_url
from tether.model.errors import InvalidInputError, RenderError
from tether.model.source import ApplicationSourceKustomize

PATH_LIST_FIELDS = ("resources", "bases", "components", "crds", "configurations")
"""Kustomization fields listing paths: local ones are jailed, remote ones checked by policy."""

INLINE_OR_PATH_FIELDS = ("patchesStrategicMerge", "generators", "transformers", "validators")
"""Fields whose entries are either a path or inline YAML (which has a newline)."""


async def render(
    request: rendering.RenderRequest,
    directory: str,
    *,
    kustomize: str,
    helm: str,
    settings: rendering.RenderSettings,
    scratch: str,
) -> list[dict[str, Any]]:
    """Build the source with kustomize, through an overlay when inline options are set."""
    await asyncio.to_thread(
        check_references, request.repo_root, directory, settings.remote, resolve_host
    )
    options = request.source.kustomize or ApplicationSourceKustomize()
    target = directory
    if options.has_inline_options():
        target = tempfile.mkdtemp(prefix="overlay-", dir=scratch)
        overlay = _overlay(request, options, directory, target)
        with open(os.path.join(target, "kustomization.yaml"), "wb") as handle:
            handle.write(orjson.dumps(overlay))  # JSON is YAML, and needs no quoting rules
    where = "spec.source.kustomize"
    command = CommandLine(kustomize, "build").positional(target, field="spec.source.path")
    flags = build_flags(request.options.kustomize, helm)
    command.word(*flags)  # the operator's argocd-cm, checked by renderconfig; never tenant input
    if "--enable-helm" in flags:
        kube_version = options.kube_version or request.kube_version
        if kube_version:
            command.flag("--helm-kube-version", kube_version, field=f"{where}.kubeVersion")
        apis = options.api_versions or request.api_versions
        command.flags("--helm-api-versions", apis, field=f"{where}.apiVersions")
    try:
        done = await _process.run(
            command.argv,
            cwd=scratch,
            env=_process.base_env({"HOME": _empty_home(scratch), **request.env}),
            timeout=settings.tool_timeout_s,
            output_limit=settings.max_output_bytes,
        )
    except _process.ProcessError as err:
        raise RenderError(f"kustomize build {err.reason}{_process.tail(err.stderr)}") from None
    limits = kubeyaml.Limits(max_file_bytes=settings.max_output_bytes)
    # Parsing a big render takes seconds of CPU: off the event loop, so the controller stays live.
    return await asyncio.to_thread(
        kubeyaml.parse_yaml, done.stdout, "kustomize build output", limits
    )


def build_flags(options: Sequence[str], helm: str) -> list[str]:
    """The operator's ``kustomize build`` flags, pointing ``--enable-helm`` at tether's helm."""
    flags = list(options)
    if "--enable-helm" in flags:
        flags += ["--helm-command", helm]
    return flags


def _overlay(
    request: rendering.RenderRequest,
    options: ApplicationSourceKustomize,
    directory: str,
    overlay_dir: str,
) -> dict[str, Any]:
    where = "spec.source.kustomize"
    overlay: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(directory, overlay_dir)],
    }
    if options.name_prefix:
        overlay["namePrefix"] = options.name_prefix
    if options.name_suffix:
        overlay["nameSuffix"] = options.name_suffix
    if options.namespace:
        overlay["namespace"] = options.namespace
    if options.images:
        overlay["images"] = [parse_image(image) for image in options.images]
    if options.replicas:
        overlay["replicas"] = [
            {"name": r.name, "count": _count(r.count, f"{where}.replicas")}
            for r in options.replicas
        ]
    if options.common_labels:
        label: dict[str, Any] = {"pairs": dict(options.common_labels), "includeSelectors": True}
        if options.label_without_selector:
            # includeTemplates is only meaningful (and only accepted) without selectors.
            label["includeSelectors"] = False
            label["includeTemplates"] = bool(options.label_include_templates)
        overlay["labels"] = [label]
    if options.common_annotations:
        annotations = dict(options.common_annotations)
        if options.common_annotations_envsubst:
            build = request.env
            annotations = {k: rendering.expand_env(v, build) for k, v in annotations.items()}
        overlay["commonAnnotations"] = annotations
    components = []
    for component in options.components or []:
        path = _jail.resolve(
            request.repo_root, component, base=directory, field=f"{where}.components"
        )
        if not os.path.isdir(path):
            if options.ignore_missing_components:
                continue
            raise InvalidInputError(f"{where}.components: {component!r} does not exist")
        components.append(os.path.relpath(path, overlay_dir))
    if components:
        overlay["components"] = components
    patches = []
    for index, patch in enumerate(options.patches or []):
        entry = patch.to_manifest()
        if isinstance(entry.get("path"), str):
            path = _jail.resolve(
                request.repo_root, entry["path"], base=directory, field=f"{where}.patches.path"
            )
            if not os.path.isfile(path):
                raise InvalidInputError(f"{where}.patches.path: {entry['path']!r} is not a file")
            # Kustomize only loads patch files from inside the overlay's own root.
            copy = f"patch-{index}{os.path.splitext(path)[1] or '.yaml'}"
            shutil.copyfile(path, os.path.join(overlay_dir, copy))
            entry["path"] = copy
        patches.append(entry)
    if patches:
        overlay["patches"] = patches
    return overlay


def _count(count: int | str, where: str) -> int:
    """A replica count: Argo CD declares it int-or-string, kustomize needs an integer."""
    try:
        return int(count)
    except ValueError:
        raise InvalidInputError(f"{where}.count must be an integer") from None


def parse_image(spec: str) -> dict[str, str]:
    """``[old=]new[:tag][@digest]`` (``kustomize edit set image`` syntax) as an ``images`` entry."""
    if spec.startswith("-"):
        raise InvalidInputError(f"spec.source.kustomize.images: invalid image {spec!r}")
    name, sep, rest = spec.partition("=")
    if not sep:
        name, rest = "", spec
    rest, _, digest = rest.partition("@")
    image, tag = rest, ""
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        image, tag = rest[:colon], rest[colon + 1 :]
    entry = {"name": name or image}
    if name and image != name:
        entry["newName"] = image
    if tag:
        entry["newTag"] = tag
    if digest:
        entry["digest"] = digest
    return entry


def check_references(
    root: str,
    directory: str,
    policy: remote.RemotePolicy | None = None,
    resolve: remote.Resolver = lambda _host: (),
) -> None:
    """Refuse what kustomize would read or fetch outside the repository, before it runs.

    Local references must stay inside the repository (an absolute one is read as absolute by
    kustomize, so it never does); remote ones (bases, files, charts by URL) need a host the
    administrator allowed and never reach a link-local, metadata or (unless allowed) loopback
    address.
    """
    policy = policy or remote.RemotePolicy()
    seen: set[str] = set()
    pending = [directory]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        file = next(
            (
                os.path.join(current, name)
                for name in rendering.KUSTOMIZATION_FILES
                if os.path.isfile(os.path.join(current, name))
            ),
            None,
        )
        if file is None:
            continue
        shown = os.path.relpath(file, root)
        with open(file, "rb") as handle:
            docs = kubeyaml.parse_yaml(handle.read(), shown)
        kustomization = docs[0] if docs else {}
        for field, reference in _references(kustomization):
            where = f"{shown}: {field} {redact_url(reference)!r}"
            if _is_remote(reference, current):
                remote.check_reference(reference, policy, resolve, field=where)
                continue
            if reference.startswith("/"):
                raise InvalidInputError(
                    f"{where}: an absolute path, which kustomize reads outside the repository"
                )
            resolved = _jail.resolve(root, reference, base=current, field=where)
            if os.path.isdir(resolved):
                pending.append(resolved)


def _is_remote(reference: str, base: str) -> bool:
    """Whether kustomize would fetch ``reference`` rather than read it from the checkout."""
    if "://" in reference or "?ref=" in reference or reference.startswith("git@"):
        return True
    if remote.host_of(reference) is None:
        return False
    # ``github.com/org/repo``: remote, unless the checkout really holds such a path.
    return not os.path.exists(os.path.join(base, reference))


def _references(kustomization: dict[str, Any]) -> list[tuple[str, str]]:
    """Every path or URL a kustomization names, with the field it is in."""
    found: list[tuple[str, str]] = []
    for field in PATH_LIST_FIELDS:
        found += [(field, p) for p in kustomization.get(field) or [] if isinstance(p, str)]
    for field in INLINE_OR_PATH_FIELDS:
        entries = kustomization.get(field) or []
        found += [(field, p) for p in entries if isinstance(p, str) and "\n" not in p]
    for field in ("patches", "patchesJson6902", "replacements"):
        for entry in kustomization.get(field) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                found.append((field, entry["path"]))
    for field in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(field) or []:
            if not isinstance(generator, dict):
                continue
            files = [*(generator.get("files") or []), *(generator.get("envs") or [])]
            if isinstance(generator.get("env"), str):
                files.append(generator["env"])
            found += [(field, f.split("=", 1)[-1]) for f in files if isinstance(f, str)]
    for chart in kustomization.get("helmCharts") or []:
        if isinstance(chart, dict):
            if isinstance(chart.get("repo"), str):
                found.append(("helmCharts.repo", chart["repo"]))
            if isinstance(chart.get("valuesFile"), str):
                found.append(("helmCharts.valuesFile", chart["valuesFile"]))
            extra = chart.get("additionalValuesFiles") or []
            found += [("helmCharts.additionalValuesFiles", f) for f in extra if isinstance(f, str)]
    for holder, key in (("helmGlobals", "chartHome"), ("openapi", "path")):
        section = kustomization.get(holder)
        if isinstance(section, dict) and isinstance(section.get(key), str):
            found.append((f"{holder}.{key}", section[key]))
    return found


def _empty_home(scratch: str) -> str:
    """A HOME of the render's own: nothing of the controller user's reaches kustomize or helm."""
    home = os.path.join(scratch, "home")
    os.makedirs(home, exist_ok=True)
    return home
