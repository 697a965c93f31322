"""Helm sources: the real ``helm template``, for charts in Git or pulled from a Helm repository.

Value and file parameters are jailed to the repository (``$ref/...`` to the ref source's checkout);
local ``file://`` dependencies are built in a scratch copy, never in the read-only checkout.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import orjson

from tether.adapters import _disk, _process
from tether.adapters._network import resolve_host
from tether.adapters.commandline import CommandLine
from tether.adapters.render import _jail
from tether.core.sources import helmvalues, jail, kubeyaml, remote, rendering
from tether.core.sources.repocreds import redact_url
from tether.model.errors import InvalidInputError, RenderError
from tether.model.source import ApplicationSourceHelm

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
"""Only exact versions can be served from the chart cache; constraints need the index."""

URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

FILE_PARAMETER_MAX_BYTES = 1024 * 1024
"""A file parameter becomes one value in the chart's values; a megabyte is already a lot."""

_pull_locks: dict[tuple[int, str], asyncio.Lock] = {}
"""One pull per chart at a time, per event loop (an asyncio lock belongs to one loop)."""


def helm_env(base_dir: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Helm's own state (repositories, cache) in tether's cache, never the user's home."""
    os.makedirs(base_dir, exist_ok=True)
    return _process.base_env(
        {
            "HOME": base_dir,
            "HELM_CACHE_HOME": os.path.join(base_dir, "cache"),
            "HELM_CONFIG_HOME": os.path.join(base_dir, "config"),
            "HELM_DATA_HOME": os.path.join(base_dir, "data"),
            **extra,
        }
    )


async def render(
    request: rendering.RenderRequest,
    directory: str,
    *,
    helm: str,
    settings: rendering.RenderSettings,
    cache_dir: str,
    scratch: str,
    ca: str = "",
) -> list[dict[str, Any]]:
    """Template a chart: ``directory`` is its Git path, or empty for a Helm-repository chart.

    ``ca`` is the PEM the operator trusts for the chart repository's host (``argocd-tls-certs-cm``).
    """
    source = request.source
    options = source.helm or ApplicationSourceHelm()
    env = helm_env(os.path.join(cache_dir, "helm-home"), request.env)
    if source.chart:
        chart_dir = await pull(
            helm, source.repo_url, source.chart, source.revision,
            cache_dir=cache_dir, env=env, pass_credentials=bool(options.pass_credentials),
            timeout=settings.tool_timeout_s, policy=settings.remote, ca=ca,
        )  # fmt: skip
        jail_root = chart_dir
    else:
        chart_dir = await _with_local_dependencies(
            helm, request.repo_root, directory, scratch, env, settings.tool_timeout_s
        )
        jail_root = request.repo_root
    where = "spec.source.helm"
    command = CommandLine(helm, "template")
    command.positional(options.release_name or request.app_name, field=f"{where}.releaseName")
    command.positional(chart_dir, field="spec.source.path")
    namespace = options.namespace or request.app_namespace or "default"
    command.flag("--namespace", namespace, field=f"{where}.namespace")
    _add_values(command, request, options, directory or chart_dir, jail_root, settings, scratch)
    command.word("--skip-crds" if options.skip_crds else "--include-crds")
    if options.skip_tests:
        command.word("--skip-tests")
    if options.skip_schema_validation:
        command.word("--skip-schema-validation")
    kube_version = options.kube_version or request.kube_version
    if kube_version:
        command.flag("--kube-version", kube_version, field=f"{where}.kubeVersion")
    apis = options.api_versions or request.api_versions
    command.flags("--api-versions", apis, field=f"{where}.apiVersions")
    try:
        done = await _process.run(
            command.argv,
            cwd=scratch,
            env=env,
            timeout=settings.tool_timeout_s,
            output_limit=settings.max_output_bytes,
        )
    except _process.ProcessError as err:
        raise RenderError(f"helm template {err.reason}{_process.tail(err.stderr)}") from None
    limits = kubeyaml.Limits(max_file_bytes=settings.max_output_bytes)
    # Off the event loop: a big chart takes seconds to parse.
    return await asyncio.to_thread(kubeyaml.parse_yaml, done.stdout, "helm template output", limits)


def _add_values(
    command: CommandLine,
    request: rendering.RenderRequest,
    options: ApplicationSourceHelm,
    chart_dir: str,
    jail_root: str,
    settings: rendering.RenderSettings,
    scratch: str,
) -> None:
    """Value files, inline values, then parameters, in helm's order of precedence.

    Parameters and file parameters become one generated values file (``core.sources.helmvalues``):
    handed to ``--set``, a value or a name could set other keys or read other files.
    """
    where = "spec.source.helm"
    for value_file in options.value_files or []:
        if URL.match(value_file):
            scheme = value_file.split(":", 1)[0].lower()
            if scheme not in request.options.helm_value_url_schemes:
                raise InvalidInputError(
                    f"{where}.valueFiles: {redact_url(value_file)!r}: remote value files are "
                    "not allowed"
                )
            remote.check_reference(
                value_file, settings.remote, resolve_host, field=f"{where}.valueFiles"
            )
            command.flag("--values", value_file, field=f"{where}.valueFiles")
            continue
        root, path = _resolve_value_file(request, value_file, chart_dir, jail_root)
        # A glob (Argo CD 2.10+) expands in lexical order; every match is jailed like the rest.
        matches = sorted(glob.glob(path)) if glob.has_magic(value_file) else [path]
        for match in matches:
            if not jail.is_inside(os.path.realpath(root), os.path.realpath(match)):
                raise InvalidInputError(
                    f"{where}.valueFiles: {value_file!r} matches a path outside the repository"
                )
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            if options.ignore_missing_value_files:
                continue
            raise InvalidInputError(f"{where}.valueFiles: {value_file!r} does not exist")
        for match in matches:
            if "," in match:
                # helm splits --values at commas: this one path would name two files.
                raise InvalidInputError(f"{where}.valueFiles: {value_file!r} holds a comma")
            command.flag("--values", match, field=f"{where}.valueFiles")
    if options.values_object is not None or options.values:
        inline = os.path.join(scratch, "inline-values.yaml")
        with open(inline, "wb") as handle:
            if options.values_object is not None:  # valuesObject wins over values, as in Argo CD
                handle.write(orjson.dumps(dict(options.values_object)))
            else:
                handle.write((options.values or "").encode())
        command.flag("--values", inline, field=f"{where}.values")
    parameters = [
        helmvalues.Parameter(p.name or "", p.value or "", bool(p.force_string))
        for p in options.parameters or []
    ]
    files = [
        helmvalues.Parameter(
            f.name or "", _read_file_parameter(request, f.path or "", chart_dir, jail_root)
        )
        for f in options.file_parameters or []
    ]
    if parameters or files:
        generated = os.path.join(scratch, "parameters.json")
        with open(generated, "wb") as handle:
            handle.write(orjson.dumps(helmvalues.build(parameters, files, where=where)))
        command.flag("--values", generated, field=f"{where}.parameters")


def _read_file_parameter(
    request: rendering.RenderRequest, path: str, chart_dir: str, jail_root: str
) -> str:
    """A file parameter's content (``--set-file`` reads it as text), jailed and size-limited."""
    where = "spec.source.helm.fileParameters"
    _, resolved = _resolve_value_file(request, path, chart_dir, jail_root, "fileParameters")
    if not os.path.isfile(resolved):
        raise InvalidInputError(f"{where}: {path!r} does not exist")
    if os.path.getsize(resolved) > FILE_PARAMETER_MAX_BYTES:
        raise InvalidInputError(
            f"{where}: {path!r} is larger than {FILE_PARAMETER_MAX_BYTES} bytes"
        )
    with open(resolved, "rb") as handle:
        return handle.read().decode(errors="replace")


def _resolve_value_file(
    request: rendering.RenderRequest,
    value_file: str,
    chart_dir: str,
    jail_root: str,
    field: str = "valueFiles",
) -> tuple[str, str]:
    """The jail root and the resolved path of a value or file parameter path."""
    where = f"spec.source.helm.{field}"
    if value_file.startswith("$"):
        ref, _, rest = value_file[1:].partition("/")
        root = request.refs.get(ref)
        if root is None:
            raise InvalidInputError(f"{where}: {value_file!r} names no ref source {ref!r}")
        return root, _jail.resolve(root, rest, field=where)
    return jail_root, _jail.resolve(jail_root, value_file, base=chart_dir, field=where)


async def _with_local_dependencies(
    helm: str, root: str, chart_dir: str, scratch: str, env: dict[str, str], timeout: float
) -> str:
    """The chart itself, or a scratch copy with its ``file://`` dependencies built in."""
    chart = _read_chart(chart_dir)
    missing_local: list[tuple[int, str]] = []
    for index, dep in enumerate(chart.get("dependencies") or []):
        if not isinstance(dep, dict):
            continue
        repository = str(dep.get("repository") or "")
        if _vendored(chart_dir, str(dep.get("name", ""))):
            continue
        if not repository.startswith("file://"):
            raise RenderError(
                f"Chart.yaml: dependency {dep.get('name')!r} from {repository!r} is not vendored "
                "in charts/; only local file:// dependencies are built"
            )
        target = _jail.resolve(
            root, repository[len("file://") :], base=chart_dir, field="Chart.yaml dependencies"
        )
        missing_local.append((index, target))
    if not missing_local:
        return chart_dir
    copy = os.path.join(tempfile.mkdtemp(prefix="chart-", dir=scratch), "chart")
    await asyncio.to_thread(shutil.copytree, chart_dir, copy, symlinks=True)
    deps = chart["dependencies"]
    for index, target in missing_local:
        deps[index]["repository"] = "file://" + target  # the copy moved; point at the original
    with open(os.path.join(copy, "Chart.yaml"), "wb") as handle:
        handle.write(orjson.dumps(chart))
    lock = os.path.join(copy, "Chart.lock")
    if os.path.exists(lock):
        os.remove(lock)  # its digest covers the old repository strings
    try:
        await _process.run(
            CommandLine(helm, "dependency", "build", "--skip-refresh")
            .positional(copy, field="spec.source.path")
            .argv,
            env=env,
            timeout=timeout,
        )
    except _process.ProcessError as err:
        raise RenderError(
            f"helm dependency build {err.reason}{_process.tail(err.stderr)}"
        ) from None
    return copy


def _read_chart(chart_dir: str) -> dict[str, Any]:
    path = os.path.join(chart_dir, "Chart.yaml")
    if not os.path.isfile(path):
        raise InvalidInputError("spec.source.path: no Chart.yaml in the chart directory")
    with open(path, "rb") as handle:
        docs = kubeyaml.parse_yaml(handle.read(), "Chart.yaml")
    return docs[0] if docs else {}


def _vendored(chart_dir: str, name: str) -> bool:
    charts = os.path.join(chart_dir, "charts")
    if not os.path.isdir(charts):
        return False
    return any(entry == name or entry.startswith(name + "-") for entry in os.listdir(charts))


async def pull(
    helm: str,
    repo_url: str,
    chart: str,
    version: str,
    *,
    cache_dir: str,
    env: dict[str, str],
    pass_credentials: bool,
    timeout: float,
    policy: remote.RemotePolicy,
    ca: str = "",
) -> str:
    """A chart from a Helm repository, unpacked under a cache keyed by repo, chart and version.

    The repository itself is the AppProject's to allow; ``policy`` only keeps the pull off the
    addresses tether never reaches (link-local, metadata, loopback unless allowed).
    """
    if chart.startswith("-") or "/" in chart or ".." in chart:
        raise InvalidInputError(f"spec.source.chart: invalid chart name {chart!r}")
    host = remote.host_of(repo_url)
    if host:
        remote.refuse_address(host, resolve_host(host), policy, "spec.source.repoURL")
    key = hashlib.sha256(f"{repo_url}\n{chart}".encode()).hexdigest()[:24]
    base = os.path.join(cache_dir, "charts", key)
    constraint = "" if version in ("", "HEAD", "*") else version
    exact = os.path.join(base, constraint.lstrip("v"), chart)
    if EXACT_VERSION.match(constraint) and os.path.isfile(os.path.join(exact, "Chart.yaml")):
        _disk.touch(os.path.dirname(exact))  # its use, for prune_charts
        return exact
    lock = _pull_locks.setdefault((id(asyncio.get_running_loop()), key), asyncio.Lock())
    async with lock:
        os.makedirs(base, exist_ok=True)
        staging = tempfile.mkdtemp(prefix="pull-", dir=base)
        command = CommandLine(helm, "pull").positional(chart, field="spec.source.chart")
        command.flag("--repo", repo_url, field="spec.source.repoURL")
        command.word("--untar").flag("--untardir", staging, field="spec.source.chart")
        if constraint:
            command.flag("--version", constraint, field="spec.source.targetRevision")
        if pass_credentials:
            command.word("--pass-credentials")
        if ca:
            # Instead of the system's CAs, as Argo CD does for a host in argocd-tls-certs-cm.
            ca_file = os.path.join(staging, "ca.pem")
            with open(ca_file, "w", encoding="utf-8") as handle:
                handle.write(ca)
            command.flag("--ca-file", ca_file, field="argocd-tls-certs-cm")
        try:
            await _process.run(command.argv, env=env, timeout=timeout)
        except _process.ProcessError as err:
            shutil.rmtree(staging, ignore_errors=True)
            where = f"helm pull {chart} from {redact_url(repo_url)}"
            raise RenderError(f"{where}: {err.reason}{_process.tail(err.stderr)}") from None
        if ca:
            os.remove(ca_file)  # not part of the chart kept in the cache
        pulled = os.path.join(staging, chart)
        resolved = str(_read_chart(pulled).get("version", "unknown")).lstrip("v")
        final = os.path.join(base, resolved)
        if os.path.isdir(final):
            shutil.rmtree(staging, ignore_errors=True)
            _disk.touch(final)
        else:
            os.replace(staging, final)
        return os.path.join(final, chart)


def prune_charts(cache_dir: str, keep: int, *, min_idle_s: float, now: float) -> list[str]:
    """Delete the least recently used pulled chart versions beyond the newest ``keep``."""
    versions = _disk.subdirectories(os.path.join(cache_dir, "charts"), depth=2)
    return _disk.prune_least_recent(versions, keep=keep, min_idle_s=min_idle_s, now=now)
