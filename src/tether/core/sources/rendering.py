"""Application sources as render inputs: tool detection, build env, cache keys, the request.

The source itself is the model's ``ApplicationSource``, validated when the Application was parsed
and checked by ``checks`` before rendering. Pure: nothing here reads a disk (the jail is ``jail``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from tether.core.sources.remote import RemotePolicy
from tether.core.sources.repocreds import redact_url
from tether.model.source import ApplicationSource, ApplicationSourcePlugin

# -- Tool detection ----------------------------------------------------------------------------

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The file names kustomize itself accepts as a kustomization root."""

TOOL_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # First match wins, in Argo CD's order: a chart that ships a kustomization is still a chart.
    ("helm", ("Chart.yaml",)),
    ("kustomize", KUSTOMIZATION_FILES),
)


def detect_tool(source: ApplicationSource, file_names: Iterable[str]) -> str:
    """The tool for a source: explicit options first, then marker files in its directory.

    Returns one of ``helm``, ``kustomize``, ``plugin``, ``directory``.
    """
    if source.chart or source.helm is not None:
        return "helm"
    if source.kustomize is not None:
        return "kustomize"
    if source.plugin is not None:
        return "plugin"
    names = set(file_names)
    for tool, markers in TOOL_MARKERS:
        if any(marker in names for marker in markers):
            # Directory options on a chart path are ignored by Argo CD too; the marker decides.
            return tool
    return "directory"


# -- Build environment -------------------------------------------------------------------------


def build_env(
    *,
    app_name: str,
    app_namespace: str,
    revision: str,
    source: ApplicationSource,
    kube_version: str = "",
    api_versions: Sequence[str] = (),
) -> dict[str, str]:
    """Argo CD's build environment, given to plugins and usable in values (``$ARGOCD_APP_NAME``)."""
    return {
        "ARGOCD_APP_NAME": app_name,
        "ARGOCD_APP_NAMESPACE": app_namespace,
        "ARGOCD_APP_REVISION": revision,
        "ARGOCD_APP_REVISION_SHORT": revision[:7],
        # Without userinfo: a password typed into repoURL must not reach a plugin or a value.
        "ARGOCD_APP_SOURCE_REPO_URL": redact_url(source.repo_url),
        "ARGOCD_APP_SOURCE_PATH": source.path or "",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": source.revision,
        "KUBE_VERSION": kube_version,
        "KUBE_API_VERSIONS": ",".join(api_versions),
    }


def plugin_env(options: ApplicationSourcePlugin, build: Mapping[str, str]) -> dict[str, str]:
    """A plugin's user env, as Argo CD gives it.

    ``ARGOCD_ENV_<name>`` with ``$VAR`` of the build env expanded, ``PARAM_<NAME>`` per
    parameter (``_<i>`` / ``_<KEY>`` for arrays and maps), ``ARGOCD_APP_PARAMETERS`` as JSON.
    """
    env: dict[str, str] = {}
    for entry in options.env or []:
        env["ARGOCD_ENV_" + entry.name] = expand_env(entry.value, build)
    for param in options.parameters or []:
        key = "PARAM_" + _env_name(param.name or "")
        if param.array is not None:
            for i, item in enumerate(param.array):
                env[f"{key}_{i}"] = item
        elif param.map is not None:
            for sub, item in param.map.items():
                env[f"{key}_{_env_name(sub)}"] = item
        else:
            env[key] = param.string or ""
    parameters = [param.to_manifest() for param in options.parameters or []]
    env["ARGOCD_APP_PARAMETERS"] = orjson.dumps(parameters).decode()
    return env


def _env_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def expand_env(value: str, build: Mapping[str, str]) -> str:
    """Replace ``$VAR`` and ``${VAR}`` of the build environment; other text stays as is."""
    for key in sorted(build, key=len, reverse=True):
        value = value.replace("${" + key + "}", build[key]).replace("$" + key, build[key])
    return value


# -- Cache keys --------------------------------------------------------------------------------


def options_hash(source: ApplicationSource, context: Mapping[str, Any]) -> str:
    """A digest of everything besides the commit that changes a render: options and context.

    A Git source's ``targetRevision`` is left out: the commit it resolved to is in the cache key,
    and the name that reached it (``main``, a tag, the SHA a sync pins) renders the same. With
    it, a sync (which pins the SHA) and the comparisons around it rendered the same commit three
    times. A chart version (Helm repository) stays in: it is what gets rendered.
    """
    raw = source.to_manifest()
    if not source.is_helm_chart:
        raw.pop("targetRevision", None)
    payload = {"source": raw, "context": dict(context)}
    blob = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(blob).hexdigest()[:32]


KUSTOMIZE_FLAGS_READING_VERSIONS = {
    "--enable-helm": "charts kustomize inflates get --helm-kube-version and --helm-api-versions",
    "--enable-alpha-plugins": "exec plugins run with the build env, KUBE_VERSION included",
    "--enable-exec": "the same exec plugins",
}
"""The operator's kustomize flags that let a cluster's versions into a kustomize build."""


def reads_cluster_versions(tool: str, source: ApplicationSource, options: BuildOptions) -> bool:
    """Whether a render by ``tool`` (``detect_tool``'s) may read the destination's versions.

    Only then do they key its render: a plain kustomize or directory app is not rendered again
    because a CRD was installed somewhere in the cluster.
    """
    if tool in ("helm", "plugin"):
        return True  # .Capabilities; KUBE_VERSION and KUBE_API_VERSIONS
    if tool == "kustomize":
        envsubst = bool(source.kustomize and source.kustomize.common_annotations_envsubst)
        return envsubst or any(
            flag in KUSTOMIZE_FLAGS_READING_VERSIONS for flag in options.kustomize
        )
    return False  # plain manifests and Jsonnet see no build env


def api_versions_digest(api_versions: Iterable[str]) -> str:
    """A short stand-in for a cluster's API versions in an options digest, in any order.

    Hundreds of entries, hashed once per render of an app rather than once per source.
    """
    blob = "\n".join(sorted(set(api_versions))).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def cache_key(
    repo_url: str, commit: str, path: str, digest: str, tool_versions: Mapping[str, str]
) -> tuple[str, ...]:
    """The render-cache key: repo, resolved commit, path, options digest and tool versions."""
    tools = ",".join(f"{k}={v}" for k, v in sorted(tool_versions.items()))
    return (repo_url, commit, path, digest, tools)


# -- Render requests and renderer settings -----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PluginSpec:
    """A config-management plugin the operator declared (Argo CD's ``ConfigManagementPlugin``)."""

    name: str
    generate: tuple[str, ...]
    """argv printing YAML or JSON manifests on stdout; run without a shell."""
    init: tuple[str, ...] = ()
    discover: str = ""
    """A file glob (``**`` crosses directories) that selects this plugin for a ``plugin: {}``
    source when a file of it matches (``discover.find.glob``)."""
    discover_file_name: str = ""
    """A Go ``filepath.Match`` glob of a path relative to the source's directory
    (``discover.fileName``)."""
    discover_command: tuple[str, ...] = ()
    """argv run in the source's directory; printing anything selects the plugin
    (``discover.find.command``)."""
    preserve_file_mode: bool = False
    """Keep the repository's file modes (executable bits) in the plugin's copy."""
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    timeout_s: float = 90.0
    """Argo CD's ``ARGOCD_EXEC_TIMEOUT`` default."""
    output_limit: int = 64 * 1024 * 1024

    @property
    def discovers(self) -> bool:
        """Whether the plugin has a discovery rule (else only a source naming it selects it)."""
        return bool(self.discover or self.discover_file_name or self.discover_command)


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """The operator's options for every render (``argocd-cm``), sent along with each request.

    Checked where they are read (``renderconfig``); a repo-server checks them again on arrival.
    """

    kustomize: tuple[str, ...] = ()
    """``kustomize build`` flags, as words (``--enable-helm``, ``--load-restrictor``, ``...``)."""
    helm_value_url_schemes: tuple[str, ...] = ()
    """URL schemes allowed in ``valueFiles``; none by default (remote values invite SSRF)."""

    def context(self) -> dict[str, list[str]]:
        """What of them goes into the render-cache key: a change re-renders."""
        return {"kustomize": list(self.kustomize), "helmSchemes": list(self.helm_value_url_schemes)}


DEFAULT_BUILD_OPTIONS = BuildOptions()
"""Tether's defaults, with no ``argocd-cm``: no extra kustomize flag, no remote value files."""


@dataclasses.dataclass(frozen=True)
class RenderSettings:
    """How the renderer runs tools; built from tether's settings by the composition root."""

    remote: RemotePolicy = dataclasses.field(default_factory=RemotePolicy)
    """Where remote references in repository content (kustomize bases, value files by URL)
    may go; nowhere by default."""
    tool_timeout_s: float = 90.0
    jsonnet_timeout_s: float = 30.0
    max_output_bytes: int = 64 * 1024 * 1024
    """One tool run's output; Kubeflow's whole platform renders to about 12 MiB."""
    cache_dir: str = ""
    """Where pulled charts and scratch copies go; a temporary directory when empty."""


@dataclasses.dataclass(frozen=True)
class RenderRequest:
    """Everything one render of one source needs, with its checkout already on disk."""

    app_name: str
    app_namespace: str
    source: ApplicationSource
    repo_root: str
    """The checkout of the source's commit; empty for a chart from a Helm repository."""
    revision: str
    refs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """``ref`` source name → its checkout, for ``$ref/path`` value files."""
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()
    project: str = ""
    """The app's AppProject: which repository credentials it may use."""
    options: BuildOptions = DEFAULT_BUILD_OPTIONS

    @property
    def env(self) -> dict[str, str]:
        """The Argo CD build environment of this request."""
        return build_env(
            app_name=self.app_name,
            app_namespace=self.app_namespace,
            revision=self.revision,
            source=self.source,
            kube_version=self.kube_version,
            api_versions=self.api_versions,
        )
