"""Helm sources: the real ``helm template``, for charts in Git or pulled from a Helm repository.

Value and file parameters are jailed to the repository (``$ref/...`` to the ref source's checkout);
missing dependencies (``file://``, and remote ones through ``helmrepos``) are built in a scratch
copy, never in the read-only checkout.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import orjson

from tether.adapters import _process
from tether.adapters._network import resolve_host
from tether.adapters.commandline import CommandLine
from tether.adapters.render import _jail, helmrepos
from tether.core.sources import helmvalues, jail, kubeyaml, remote, rendering
from tether.core.sources.repocreds import redact_url
from tether.model.errors import InvalidInputError, RenderError
from tether.model.source import ApplicationSourceHelm

URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

FILE_PARAMETER_MAX_BYTES = 1024 * 1024
"""A file parameter becomes one value in the chart's values; a megabyte is already a lot."""


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
    credentials: helmrepos.CredentialLookup | None = None,
    ca: str = "",
) -> list[dict[str, Any]]:
    """Template a chart: ``directory`` is its Git path, or empty for a Helm-repository chart.

    ``credentials`` answers which Helm repository credentials the request's project may use;
    ``ca`` is the PEM the operator trusts for the chart repository's host (``argocd-tls-certs-cm``).
    """
    source = request.source
    options = source.helm or ApplicationSourceHelm()
    env = helm_env(os.path.join(cache_dir, "helm-home"), request.env)
    if source.chart:
        chart_dir = await helmrepos.pull(
            helm, source.repo_url, source.chart, source.revision,
            cache_dir=cache_dir, env=env, pass_credentials=bool(options.pass_credentials),
            timeout=settings.tool_timeout_s, policy=settings.remote, lookup=credentials,
            project=request.project, ca=ca,
        )  # fmt: skip
        jail_root = chart_dir
    else:
        chart_dir = await _with_dependencies(
            helm, request, directory, scratch, env, settings, credentials
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


async def _with_dependencies(
    helm: str,
    request: rendering.RenderRequest,
    chart_dir: str,
    scratch: str,
    env: dict[str, str],
    settings: rendering.RenderSettings,
    credentials: helmrepos.CredentialLookup | None,
) -> str:
    """The chart itself, or a scratch copy with its missing dependencies built in.

    ``file://`` dependencies stay in the repository; ``http(s)://`` and ``oci://`` ones are
    fetched with the credentials the app's project has for them, from repositories a Secret
    declares or hosts the administrator listed. Repository aliases (``@name``)
    name entries of a helm configuration tether does not have, and are refused.
    """
    root = request.repo_root
    chart = _read_chart(chart_dir)
    missing_local: list[tuple[int, str]] = []
    remotes: dict[str, helmrepos.Repository] = {}
    field = "Chart.yaml dependencies"
    for index, dep in enumerate(chart.get("dependencies") or []):
        if not isinstance(dep, dict):
            continue
        repository = str(dep.get("repository") or "")
        if _vendored(chart_dir, str(dep.get("name", ""))):
            continue
        if repository.startswith("file://"):
            target = _jail.resolve(root, repository[len("file://") :], base=chart_dir, field=field)
            missing_local.append((index, target))
        elif URL.match(repository):
            located = helmrepos.locate(
                repository, credentials, request.project, settings.remote, field
            )
            if located.creds is None:
                # Repository content naming a place: only a repository an administrator
                # declared (a Secret, even without secrets) or a listed remote host.
                remote.check_reference(located.url, settings.remote, resolve_host, field=field)
            remotes.setdefault(located.url, located)
        else:
            raise RenderError(
                f"Chart.yaml: dependency {dep.get('name')!r} from {repository!r} is not vendored "
                "in charts/ and names no URL (file://, https:// or oci://)"
            )
    if not missing_local and not remotes:
        return chart_dir
    copy = os.path.join(tempfile.mkdtemp(prefix="chart-", dir=scratch), "chart")
    await asyncio.to_thread(shutil.copytree, chart_dir, copy, symlinks=True)
    if missing_local:
        deps = chart["dependencies"]
        for index, target in missing_local:
            deps[index]["repository"] = "file://" + target  # the copy moved; point at the original
        with open(os.path.join(copy, "Chart.yaml"), "wb") as handle:
            handle.write(orjson.dumps(chart))
        lock = os.path.join(copy, "Chart.lock")
        if os.path.exists(lock):
            os.remove(lock)  # its digest covers the old repository strings
    await helmrepos.build_dependencies(
        helm, copy, list(remotes.values()), cache_dir=scratch, env=env,
        timeout=settings.tool_timeout_s,
    )  # fmt: skip
    return copy


_read_chart = helmrepos.read_chart


def _vendored(chart_dir: str, name: str) -> bool:
    charts = os.path.join(chart_dir, "charts")
    if not os.path.isdir(charts):
        return False
    return any(entry == name or entry.startswith(name + "-") for entry in os.listdir(charts))
