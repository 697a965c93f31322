"""Application sources as render inputs: options, tool detection, path jail, build env, cache keys.

Pure: paths are resolved through a ``realpath`` the caller passes in; nothing here reads a disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from tether.model.errors import InvalidInputError

# -- Options, with Argo CD's camelCase field names ---------------------------------------------

IGNORED_OPTIONS: dict[str, str] = {
    # Accepted for compatibility but without effect, and why.
    "version": "selects one of several installed tool versions in Argo CD; tether runs one",
}
"""Every other key is known by its dataclass field (``value_files`` → ``valueFiles``)."""


@dataclasses.dataclass(frozen=True)
class JsonnetVar:
    """An extVar or TLA: a string ``value``, or Jsonnet code when ``code`` is set."""

    name: str
    value: str
    code: bool = False


@dataclasses.dataclass(frozen=True)
class HelmOptions:
    """``spec.source.helm``."""

    value_files: tuple[str, ...] = ()
    values: str = ""
    values_object: Mapping[str, Any] | None = None
    parameters: tuple[tuple[str, str, bool], ...] = ()  # (name, value, forceString)
    file_parameters: tuple[tuple[str, str], ...] = ()  # (name, path)
    release_name: str = ""
    namespace: str = ""
    skip_crds: bool = False
    skip_tests: bool = False
    skip_schema_validation: bool = False
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()
    ignore_missing_value_files: bool = False
    pass_credentials: bool = False


@dataclasses.dataclass(frozen=True)
class KustomizeOptions:
    """``spec.source.kustomize``: everything Argo CD applies inline."""

    name_prefix: str = ""
    name_suffix: str = ""
    images: tuple[str, ...] = ()
    replicas: tuple[tuple[str, int], ...] = ()
    common_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    common_annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    label_without_selector: bool = False
    label_include_templates: bool = False
    force_common_labels: bool = False
    force_common_annotations: bool = False
    common_annotations_envsubst: bool = False
    namespace: str = ""
    patches: tuple[Mapping[str, Any], ...] = ()
    components: tuple[str, ...] = ()
    ignore_missing_components: bool = False
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether no inline option is set, so the source builds unchanged."""
        return self == KustomizeOptions(
            kube_version=self.kube_version, api_versions=self.api_versions
        )


@dataclasses.dataclass(frozen=True)
class DirectoryOptions:
    """``spec.source.directory``, including its ``jsonnet`` block."""

    recurse: bool = False
    include: str = ""
    exclude: str = ""
    ext_vars: tuple[JsonnetVar, ...] = ()
    tlas: tuple[JsonnetVar, ...] = ()
    libs: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class PluginOptions:
    """``spec.source.plugin``: ``parameters`` keep Argo CD's JSON shape for the plugin."""

    name: str = ""
    env: tuple[tuple[str, str], ...] = ()
    parameters: tuple[Mapping[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class Source:
    """One Application source, validated. ``raw`` is the mapping it came from (for hashing)."""

    repo_url: str
    path: str = ""
    target_revision: str = "HEAD"
    chart: str = ""
    ref: str = ""
    name: str = ""
    helm: HelmOptions | None = None
    kustomize: KustomizeOptions | None = None
    directory: DirectoryOptions | None = None
    plugin: PluginOptions | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def is_helm_repository(self) -> bool:
        """Whether the chart comes from a Helm repository rather than a Git path."""
        return bool(self.chart)


def parse_source(raw: Any, where: str = "spec.source") -> Source:
    """Validate an Application source (``spec.source`` or one of ``spec.sources``).

    ``raw`` is the mapping, or the pydantic ``ApplicationSource`` (dumped with its aliases).

    Raises:
        InvalidInputError: on an unknown key or a value of the wrong type, naming the field.
    """
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump(by_alias=True, exclude_none=True)
    raw = _mapping(raw, where)
    tools = {"helm": HelmOptions, "kustomize": KustomizeOptions, "plugin": PluginOptions}
    known = {"repoURL", "path", "targetRevision", "chart", "ref", "name", "directory", *tools}
    _known(raw, frozenset(known), where)
    repo_url = _str(raw, "repoURL", where)
    if not repo_url:
        raise InvalidInputError(f"{where}.repoURL is required")
    options = {
        key: _options(cls, raw[key], f"{where}.{key}")
        for key, cls in tools.items()
        if raw.get(key) is not None
    }
    directory = raw.get("directory")
    return Source(
        repo_url=repo_url,
        path=_str(raw, "path", where),
        target_revision=_str(raw, "targetRevision", where) or "HEAD",
        chart=_str(raw, "chart", where),
        ref=_str(raw, "ref", where),
        name=_str(raw, "name", where),
        directory=_directory(directory, f"{where}.directory") if directory is not None else None,
        raw=raw,
        **options,
    )


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _jsonnet_vars(value: Any, where: str) -> tuple[JsonnetVar, ...]:
    return tuple(
        JsonnetVar(_str(v, "name", where), _scalar(v.get("value")), bool(v.get("code")))
        for v in _mappings(value, where)
    )


def _replica(entry: Mapping[str, Any], where: str) -> tuple[str, int]:
    try:
        return _str(entry, "name", where), int(str(entry.get("count")))
    except ValueError:
        raise InvalidInputError(f"{where}.count must be an integer") from None


SPECIAL_OPTIONS: dict[str, Callable[[Any, str], Any]] = {
    # Options whose shape is not a plain string, boolean, string list or string map.
    "valuesObject": lambda v, where: _mapping(v, where),  # free-form YAML, kept as is
    "parameters": lambda v, where: _mappings(v, where),  # helm: converted below; plugin: JSON
    "fileParameters": lambda v, where: tuple(
        (_str(p, "name", where), _str(p, "path", where)) for p in _mappings(v, where)
    ),
    "replicas": lambda v, where: tuple(_replica(r, where) for r in _mappings(v, where)),
    "patches": lambda v, where: _mappings(v, where),
    "env": lambda v, where: tuple(
        (_str(e, "name", where), _scalar(e.get("value"))) for e in _mappings(v, where)
    ),
}


def _options(cls: Any, raw: Any, where: str) -> Any:
    """Build an options dataclass from its camelCase mapping, checking names and types."""
    raw = _mapping(raw, where)
    fields = {_camel(f.name): f for f in dataclasses.fields(cls)}
    _known(raw, frozenset(fields) | frozenset(IGNORED_OPTIONS), where)
    values: dict[str, Any] = {}
    for key, field in fields.items():
        if raw.get(key) is None:
            continue
        if key in SPECIAL_OPTIONS:
            values[field.name] = SPECIAL_OPTIONS[key](raw[key], f"{where}.{key}")
        elif isinstance(field.default, bool):
            values[field.name] = bool(raw[key])
        elif isinstance(field.default, str):
            values[field.name] = _str(raw, key, where)
        elif field.default == ():
            values[field.name] = _strs(raw, key, where)
        else:
            values[field.name] = _str_map(raw, key, where)
    if cls is HelmOptions and "parameters" in values:
        values["parameters"] = tuple(
            (
                _str(p, "name", f"{where}.parameters"),
                _scalar(p.get("value")),
                bool(p.get("forceString")),
            )
            for p in values["parameters"]
        )
    return cls(**values)


def _directory(raw: Any, where: str) -> DirectoryOptions:
    raw = _mapping(raw, where)
    _known(raw, frozenset({"recurse", "include", "exclude", "jsonnet"}), where)
    jsonnet = _mapping(raw.get("jsonnet") or {}, f"{where}.jsonnet")
    _known(jsonnet, frozenset({"extVars", "tlas", "libs"}), f"{where}.jsonnet")
    return DirectoryOptions(
        recurse=bool(raw.get("recurse")),
        include=_str(raw, "include", where),
        exclude=_str(raw, "exclude", where),
        ext_vars=_jsonnet_vars(jsonnet.get("extVars"), f"{where}.jsonnet.extVars"),
        tlas=_jsonnet_vars(jsonnet.get("tlas"), f"{where}.jsonnet.tlas"),
        libs=_strs(jsonnet, "libs", f"{where}.jsonnet"),
    )


def _known(raw: Mapping[str, Any], fields: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in fields)
    if unknown:
        raise InvalidInputError(
            f"unknown option {where}.{unknown[0]} (known: {', '.join(sorted(fields))})"
        )


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object")
    return raw


def _str(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}.{key} must be a string")
    return value


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _strs(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{where}.{key} must be a list of strings")
    return tuple(value)


def _str_map(raw: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where}.{key} must be an object")
    return {str(k): _scalar(v) for k, v in value.items()}


def _mappings(value: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InvalidInputError(f"{where} must be a list of objects")
    return tuple(value)


# -- Tool detection ----------------------------------------------------------------------------

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The file names kustomize itself accepts as a kustomization root."""

TOOL_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # First match wins, in Argo CD's order: a chart that ships a kustomization is still a chart.
    ("helm", ("Chart.yaml",)),
    ("kustomize", KUSTOMIZATION_FILES),
)


def detect_tool(source: Source, file_names: Iterable[str]) -> str:
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


# -- The path jail ----------------------------------------------------------------------------


def resolve_in_repo(
    root: str,
    path: str,
    *,
    base: str = "",
    field: str,
    realpath: Callable[[str], str],
) -> str:
    """Resolve ``path`` and require that it, symlinks resolved, stays inside ``root``.

    ``path`` is relative to ``base`` (default the root), or root-relative when it starts with ``/``.

    Raises:
        InvalidInputError: "<field>: path escapes the repository root" without echoing content.
    """
    if "\x00" in path:
        raise InvalidInputError(f"{field}: path contains a NUL byte")
    real_root = realpath(root)
    if posixpath.isabs(path):
        candidate = posixpath.join(real_root, path.lstrip("/"))
    else:
        candidate = posixpath.join(realpath(base) if base else real_root, path)
    resolved = realpath(posixpath.normpath(candidate))
    if not is_inside(real_root, resolved):
        raise InvalidInputError(f"{field}: path {path!r} escapes the repository root")
    return resolved


def is_inside(root: str, path: str) -> bool:
    """Whether ``path`` is ``root`` or below it (by path components, never by string prefix)."""
    root = posixpath.normpath(root)
    path = posixpath.normpath(path)
    return posixpath.commonpath([root, path]) == root


# -- Build environment -------------------------------------------------------------------------


def build_env(
    *,
    app_name: str,
    app_namespace: str,
    revision: str,
    source: Source,
    kube_version: str = "",
    api_versions: Sequence[str] = (),
) -> dict[str, str]:
    """Argo CD's build environment, given to plugins and usable in values (``$ARGOCD_APP_NAME``)."""
    return {
        "ARGOCD_APP_NAME": app_name,
        "ARGOCD_APP_NAMESPACE": app_namespace,
        "ARGOCD_APP_REVISION": revision,
        "ARGOCD_APP_REVISION_SHORT": revision[:7],
        "ARGOCD_APP_SOURCE_REPO_URL": source.repo_url,
        "ARGOCD_APP_SOURCE_PATH": source.path,
        "ARGOCD_APP_SOURCE_TARGET_REVISION": source.target_revision,
        "KUBE_VERSION": kube_version,
        "KUBE_API_VERSIONS": ",".join(api_versions),
    }


def plugin_env(options: PluginOptions, build: Mapping[str, str]) -> dict[str, str]:
    """A plugin's user env, as Argo CD gives it.

    ``ARGOCD_ENV_<name>`` with ``$VAR`` of the build env expanded, ``PARAM_<NAME>`` per
    parameter (``_<i>`` / ``_<KEY>`` for arrays and maps), ``ARGOCD_APP_PARAMETERS`` as JSON.
    """
    env: dict[str, str] = {}
    for name, value in options.env:
        env["ARGOCD_ENV_" + name] = expand_env(value, build)
    for param in options.parameters:
        key = "PARAM_" + _env_name(str(param.get("name", "")))
        if isinstance(param.get("array"), list):
            for i, item in enumerate(param["array"]):
                env[f"{key}_{i}"] = _scalar(item)
        elif isinstance(param.get("map"), Mapping):
            for sub, item in param["map"].items():
                env[f"{key}_{_env_name(str(sub))}"] = _scalar(item)
        else:
            env[key] = _scalar(param.get("string"))
    env["ARGOCD_APP_PARAMETERS"] = orjson.dumps(list(options.parameters)).decode()
    return env


def _env_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def expand_env(value: str, build: Mapping[str, str]) -> str:
    """Replace ``$VAR`` and ``${VAR}`` of the build environment; other text stays as is."""
    for key in sorted(build, key=len, reverse=True):
        value = value.replace("${" + key + "}", build[key]).replace("$" + key, build[key])
    return value


# -- Cache keys --------------------------------------------------------------------------------


def options_hash(source: Source, context: Mapping[str, Any]) -> str:
    """A digest of everything besides the commit that changes a render: options and context.

    A Git source's ``targetRevision`` is left out: the commit it resolved to is in the cache key,
    and the name that reached it (``main``, a tag, the SHA a sync pins) renders the same. With
    it, a sync (which pins the SHA) and the comparisons around it rendered the same commit three
    times. A chart version (Helm repository) stays in: it is what gets rendered.
    """
    raw = dict(source.raw)
    if not source.is_helm_repository:
        raw.pop("targetRevision", None)
    payload = {"source": raw, "context": dict(context)}
    blob = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)
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
    """A config-management plugin declared in settings (Argo CD's ``ConfigManagementPlugin``)."""

    name: str
    generate: tuple[str, ...]
    """argv printing YAML or JSON manifests on stdout; run without a shell."""
    init: tuple[str, ...] = ()
    discover: str = ""
    """A file glob (brace syntax) that selects this plugin for a ``plugin: {}`` source."""
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    timeout_s: float = 90.0
    """Argo CD's ``ARGOCD_EXEC_TIMEOUT`` default."""
    output_limit: int = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class RenderSettings:
    """How the renderer runs tools; built from tether's settings by the composition root."""

    kustomize_build_options: tuple[str, ...] = ()
    """Extra ``kustomize build`` flags, e.g. ``--enable-helm``, ``--load-restrictor ...``."""
    helm_value_url_schemes: tuple[str, ...] = ()
    """URL schemes allowed in ``valueFiles``; none by default (remote values invite SSRF)."""
    plugins: tuple[PluginSpec, ...] = ()
    tool_timeout_s: float = 90.0
    jsonnet_timeout_s: float = 30.0
    max_output_bytes: int = 256 * 1024 * 1024
    cache_dir: str = ""
    """Where pulled charts and scratch copies go; a temporary directory when empty."""


@dataclasses.dataclass(frozen=True)
class RenderRequest:
    """Everything one render of one source needs, with its checkout already on disk."""

    app_name: str
    app_namespace: str
    source: Source
    repo_root: str
    """The checkout of the source's commit; empty for a chart from a Helm repository."""
    revision: str
    refs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """``ref`` source name → its checkout, for ``$ref/path`` value files."""
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()

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
