"""Where an Application's manifests come from: ``ApplicationSource`` and its tool options.

Names and shapes follow Argo CD's ``ApplicationSource`` so existing manifests validate unchanged.
"""

from __future__ import annotations

from typing import Any

from tether.model._base import ArgoModel


class HelmParameter(ArgoModel):
    """One ``--set`` (or ``--set-string`` with ``forceString``) value."""

    name: str | None = None
    value: str | None = None
    force_string: bool | None = None


class HelmFileParameter(ArgoModel):
    """One ``--set-file`` value: a parameter read from a file in the repository."""

    name: str | None = None
    path: str | None = None


class ApplicationSourceHelm(ArgoModel):
    """Options for ``helm template``."""

    value_files: list[str] | None = None
    values: str | None = None
    # Free-form YAML; takes precedence over `values` when both are set, as in Argo CD.
    values_object: dict[str, Any] | None = None
    parameters: list[HelmParameter] | None = None
    file_parameters: list[HelmFileParameter] | None = None
    release_name: str | None = None
    namespace: str | None = None
    skip_crds: bool | None = None
    skip_tests: bool | None = None
    skip_schema_validation: bool | None = None
    kube_version: str | None = None
    api_versions: list[str] | None = None
    ignore_missing_value_files: bool | None = None
    pass_credentials: bool | None = None
    # Selects one of several installed Helm versions in Argo CD; tether runs one, so no effect.
    version: str | None = None


class KustomizeReplica(ArgoModel):
    """A replica count override for one workload."""

    name: str
    # Argo CD declares this int-or-string.
    count: int | str


class KustomizeSelector(ArgoModel):
    """Which resources a kustomize patch applies to."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    label_selector: str | None = None
    annotation_selector: str | None = None


class KustomizePatch(ArgoModel):
    """An inline kustomize patch (strategic merge or JSON 6902)."""

    path: str | None = None
    patch: str | None = None
    target: KustomizeSelector | None = None
    options: dict[str, bool] | None = None


class ApplicationSourceKustomize(ArgoModel):
    """Overrides applied on top of a ``kustomization.yaml``."""

    name_prefix: str | None = None
    name_suffix: str | None = None
    images: list[str] | None = None
    replicas: list[KustomizeReplica] | None = None
    common_labels: dict[str, str] | None = None
    common_annotations: dict[str, str] | None = None
    common_annotations_envsubst: bool | None = None
    label_without_selector: bool | None = None
    label_include_templates: bool | None = None
    force_common_labels: bool | None = None
    force_common_annotations: bool | None = None
    namespace: str | None = None
    patches: list[KustomizePatch] | None = None
    components: list[str] | None = None
    ignore_missing_components: bool | None = None
    kube_version: str | None = None
    api_versions: list[str] | None = None
    # Selects one of several installed kustomize versions in Argo CD; tether runs one.
    version: str | None = None

    def has_inline_options(self) -> bool:
        """Whether anything besides the versions is set, so the build needs an overlay."""
        versions = ("kube_version", "api_versions", "version")
        return any(getattr(self, name) for name in type(self).model_fields if name not in versions)


class JsonnetVar(ArgoModel):
    """A jsonnet external variable or top-level argument; ``code`` means the value is jsonnet."""

    name: str
    value: str
    code: bool | None = None


class ApplicationSourceJsonnet(ArgoModel):
    """Options for jsonnet files in a directory source."""

    ext_vars: list[JsonnetVar] | None = None
    tlas: list[JsonnetVar] | None = None
    libs: list[str] | None = None


class ApplicationSourceDirectory(ArgoModel):
    """Options for a directory of plain YAML, JSON and jsonnet files."""

    recurse: bool | None = None
    include: str | None = None
    exclude: str | None = None
    jsonnet: ApplicationSourceJsonnet | None = None


class EnvEntry(ArgoModel):
    """One environment variable passed to a config management plugin."""

    name: str
    value: str


class PluginParameter(ArgoModel):
    """One plugin parameter: a string, an array or a map."""

    name: str | None = None
    string: str | None = None
    array: list[str] | None = None
    map: dict[str, str] | None = None


class ApplicationSourcePlugin(ArgoModel):
    """A config management plugin invocation."""

    name: str | None = None
    env: list[EnvEntry] | None = None
    parameters: list[PluginParameter] | None = None


EXPLICIT_TYPES: tuple[tuple[str, str], ...] = (
    # (field, source type) in Argo CD's order; a source may set at most one of them.
    ("helm", "Helm"),
    ("kustomize", "Kustomize"),
    ("directory", "Directory"),
    ("plugin", "Plugin"),
)


class ApplicationSource(ArgoModel):
    """A repository (Git, Helm or OCI), a revision, and how to render what is found there."""

    repo_url: str
    path: str | None = None
    target_revision: str | None = None
    chart: str | None = None
    # Names this source so other sources can use its files as `$ref/values.yaml`.
    ref: str | None = None
    name: str | None = None
    helm: ApplicationSourceHelm | None = None
    kustomize: ApplicationSourceKustomize | None = None
    directory: ApplicationSourceDirectory | None = None
    plugin: ApplicationSourcePlugin | None = None

    @property
    def revision(self) -> str:
        """The revision to resolve: ``targetRevision``, else ``HEAD`` (Argo CD's default)."""
        return self.target_revision or "HEAD"

    @property
    def is_helm_chart(self) -> bool:
        """Whether the source names a chart in a Helm repository rather than a path in Git."""
        return bool(self.chart)

    @property
    def is_ref_only(self) -> bool:
        """Whether the source only provides files to other sources (``ref`` without path/chart)."""
        return bool(self.ref) and not self.path and not self.chart

    def explicit_types(self) -> list[str]:
        """The source types the spec asks for explicitly (more than one is an invalid spec)."""
        return [kind for field, kind in EXPLICIT_TYPES if getattr(self, field) is not None]
