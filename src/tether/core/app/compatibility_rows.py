"""The table: every field of Argo CD's Application and AppProject, supported (proved) or refused.

A row covers one field path (``spec.source.helm.valueFiles``) or a whole subtree
(``spec.sourceHydrator``, free-form ``spec.source.helm.valuesObject``); ``ALIASES`` lets places of
the same shape share rows. ``core.app.compatibility`` reads the table; ``docs/compatibility.md``
is generated from it (``hack/gen-compatibility.py``), and a unit test checks it against Argo CD's
CRD schemas and tether's own.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Supported:
    """tether honours the field; ``proof`` is the pytest node id of the test that shows it."""

    proof: str
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Refused:
    """tether does not honour the field, and says so wherever it is set.

    ``blocks``: setting it stops the app (an InvalidSpecError: nothing is synced or pruned),
    because honouring it would change what is deployed, where or when. ``blocks=False`` (a
    warning; the app keeps working) is only for fields that govern something tether does not offer
    at all and that cannot change what lands in the cluster. ``harmless``: values that mean what
    unset means here (None, False, "", [] and {} always do).
    """

    reason: str
    blocks: bool = True
    harmless: tuple[object, ...] = ()


Row = Supported | Refused


@dataclasses.dataclass(frozen=True)
class Alias:
    """A place with the shape of ``target``, following its rows; ``proof`` shows it is read."""

    target: str
    reason: str
    proof: str


def each(row: Row, *paths: str) -> dict[str, Row]:
    """One verdict for several fields, when one test proves (or one reason refuses) them all."""
    return dict.fromkeys(paths, row)


ARGO_CD_COMMIT = "37ee0097cf851bc2dd7665fc081bbce61a7e836e"
"""The argoproj/argo-cd commit (v3.6 development) whose CRDs the table was last checked against;
``tests/unit/core/app/data/argocd-fields.txt`` lists their fields."""

NOT_YET = "not implemented yet"
"""The reason of rows other work is implementing now; they flip to Supported with it."""

UNIT = "tests/unit/"
POLICY = UNIT + "core/app/test_policy.py::"
_AUTOSYNC = UNIT + "core/app/test_refresh_and_autosync.py::"
_REQUEST = UNIT + "core/sync/test_request.py::"
_BACKOFF = UNIT + "core/sync/test_backoff.py::"
_IGNORE = UNIT + "core/diff/test_ignore.py::"
_GOLDEN = UNIT + "core/diff/test_golden.py::test_each_golden_pair_compares_as_recorded"
_RENDERING = UNIT + "core/sources/test_rendering.py::"
_APP_ROUND_TRIP = (
    UNIT + "model/test_application.py::test_a_real_argo_cd_application_round_trips_unchanged"
)
PROJECT_ROUND_TRIP = (
    UNIT + "model/test_project.py::test_a_real_argo_cd_project_round_trips_unchanged"
)
_OPERATION = UNIT + "model/test_operation.py::"
_RENDER = "tests/integration/render/"
_HELM = _RENDER + "test_helm.py::"
_KUSTOMIZE = _RENDER + "test_kustomize.py::"
_DIRECTORY = _RENDER + "test_directory.py::"
_PLUGINS = _RENDER + "test_plugins.py::"
CONTROLLER = "tests/integration/controller/"
_BASIC_FLOW = (
    CONTROLLER
    + "test_basic_flow.py::test_an_app_from_git_becomes_synced_and_healthy_and_follows_commits"
)
_CLUSTERS = (
    CONTROLLER + "test_clusters.py::"
    "test_apps_deploy_each_to_its_own_cluster_and_a_removed_or_unreachable_cluster_changes_nothing"
)
_MANUAL_SYNC = (
    CONTROLLER + "test_manual_sync.py::test_manual_syncs_dry_run_selective_and_full_with_prune"
)
ORPHANS = (
    CONTROLLER + "test_orphans.py::"
    "test_an_unmanaged_object_in_the_destination_raises_an_orphaned_resource_warning"
)

FOR_PEOPLE = "text for people (Argo CD's UI and CLI show it); nothing to honour, kept as written"
_BY_CLUSTER_SECRETS = (
    "the cluster tether runs in, or one a cluster Secret names (bearer token, basic auth or "
    "client certificate; exec and AWS providers refused); name and server together, or a "
    "name two clusters share, is an InvalidSpecError; neither set means the cluster tether "
    "runs in (Argo CD refuses that)"
)
UNVERIFIED = (
    "tether does not verify commit signatures; it would deploy commits this project refuses"
)

_SOURCE = "spec.source"
SOURCE_FIELDS: dict[str, Row] = {
    # Where the manifests come from.
    **each(Supported(_BASIC_FLOW), f"{_SOURCE}.repoURL", f"{_SOURCE}.path"),
    f"{_SOURCE}.targetRevision": Supported(
        _BASIC_FLOW, "branches, tags, commits, semver ranges and Helm chart versions"
    ),
    f"{_SOURCE}.chart": Supported(
        _HELM + "test_a_chart_from_a_helm_repository_honours_a_version_constraint"
    ),
    f"{_SOURCE}.ref": Supported(
        _HELM + "test_multi_source_apps_take_value_files_from_a_ref_source"
    ),
    f"{_SOURCE}.name": Supported(_APP_ROUND_TRIP, FOR_PEOPLE),
    f"{_SOURCE}.tagPrefix": Refused(
        "tether matches targetRevision against every tag; filtering the tags by a prefix first "
        "could resolve another revision"
    ),
    # Helm: `helm template` with these options.
    **each(
        Supported(_HELM + "test_values_files_values_and_parameters_in_helm_order"),
        f"{_SOURCE}.helm.valueFiles",
        f"{_SOURCE}.helm.values",
        f"{_SOURCE}.helm.parameters[].name",
        f"{_SOURCE}.helm.parameters[].value",
        f"{_SOURCE}.helm.parameters[].forceString",
        f"{_SOURCE}.helm.fileParameters[].name",
        f"{_SOURCE}.helm.fileParameters[].path",
        f"{_SOURCE}.helm.releaseName",
        f"{_SOURCE}.helm.namespace",
    ),
    f"{_SOURCE}.helm.valuesObject": Supported(
        _HELM + "test_values_object_wins_over_values", "free-form values, as one field"
    ),
    **each(
        Supported(_HELM + "test_skip_crds_and_skip_tests"),
        f"{_SOURCE}.helm.skipCrds",
        f"{_SOURCE}.helm.skipTests",
    ),
    f"{_SOURCE}.helm.skipSchemaValidation": Supported(
        _HELM + "test_skip_schema_validation_renders_values_the_chart_schema_refuses"
    ),
    **each(
        Supported(_HELM + "test_kube_version_and_api_versions_reach_capabilities"),
        f"{_SOURCE}.helm.kubeVersion",
        f"{_SOURCE}.helm.apiVersions",
    ),
    f"{_SOURCE}.helm.ignoreMissingValueFiles": Supported(
        _HELM + "test_a_missing_value_file_fails_unless_ignored"
    ),
    f"{_SOURCE}.helm.passCredentials": Supported(
        _RENDER
        + "test_helm_repositories.py::"
        + "test_pass_credentials_sends_them_to_chart_archives_on_another_host",
        "the repository Secret's credentials also go to chart archives on other hosts",
    ),
    f"{_SOURCE}.helm.version": Refused(
        "Argo CD picks a Helm version by it; tether runs Helm 3 only", harmless=("v3",)
    ),
    # Kustomize: an overlay on top of the source's kustomization.
    **each(
        Supported(
            _KUSTOMIZE + "test_name_prefix_suffix_namespace_and_images_apply_on_top_of_the_source"
        ),
        f"{_SOURCE}.kustomize.namePrefix",
        f"{_SOURCE}.kustomize.nameSuffix",
        f"{_SOURCE}.kustomize.namespace",
        f"{_SOURCE}.kustomize.images",
    ),
    **each(
        Supported(_KUSTOMIZE + "test_replicas_labels_and_annotations"),
        f"{_SOURCE}.kustomize.replicas[].name",
        f"{_SOURCE}.kustomize.replicas[].count",
        f"{_SOURCE}.kustomize.commonLabels",
        f"{_SOURCE}.kustomize.commonAnnotations",
    ),
    f"{_SOURCE}.kustomize.commonAnnotationsEnvsubst": Supported(
        _KUSTOMIZE + "test_common_annotations_may_use_the_build_env"
    ),
    f"{_SOURCE}.kustomize.labelWithoutSelector": Supported(
        _KUSTOMIZE + "test_label_without_selector_leaves_selectors_alone"
    ),
    f"{_SOURCE}.kustomize.labelIncludeTemplates": Supported(
        _KUSTOMIZE + "test_label_include_templates_labels_pod_templates_but_not_selectors"
    ),
    **each(
        Supported(
            _KUSTOMIZE + "test_force_common_labels_and_annotations_replace_the_kustomizations_own",
            "the overlay's labels and annotations always replace the kustomization's own, which "
            "is what true asks (Argo CD fails on such a conflict when it is false)",
        ),
        f"{_SOURCE}.kustomize.forceCommonLabels",
        f"{_SOURCE}.kustomize.forceCommonAnnotations",
    ),
    **each(
        Supported(_KUSTOMIZE + "test_inline_and_file_patches_and_components"),
        f"{_SOURCE}.kustomize.patches[].path",
        f"{_SOURCE}.kustomize.patches[].patch",
        f"{_SOURCE}.kustomize.components",
    ),
    **each(
        Supported(
            _KUSTOMIZE + "test_patch_targets_and_options_reach_kustomize_as_written",
            "handed to kustomize as written",
        ),
        f"{_SOURCE}.kustomize.patches[].target",
        f"{_SOURCE}.kustomize.patches[].options",
    ),
    f"{_SOURCE}.kustomize.ignoreMissingComponents": Supported(
        _KUSTOMIZE + "test_a_missing_component_fails_unless_ignored"
    ),
    **each(
        Supported(
            _KUSTOMIZE + "test_helm_charts_inflate_with_enable_helm_the_kube_and_api_versions",
            "for charts kustomize inflates (--enable-helm in the build options)",
        ),
        f"{_SOURCE}.kustomize.kubeVersion",
        f"{_SOURCE}.kustomize.apiVersions",
    ),
    f"{_SOURCE}.kustomize.version": Refused(
        "Argo CD picks one of several installed kustomize binaries by it; tether runs one, "
        "whose output may differ"
    ),
    # Plain YAML, JSON and jsonnet files.
    f"{_SOURCE}.directory.recurse": Supported(
        _DIRECTORY + "test_recurse_reads_subdirectories_in_sorted_order_skipping_hidden_ones"
    ),
    **each(
        Supported(_DIRECTORY + "test_include_and_exclude_use_argo_brace_globs"),
        f"{_SOURCE}.directory.include",
        f"{_SOURCE}.directory.exclude",
    ),
    **each(
        Supported(_DIRECTORY + "test_jsonnet_with_ext_vars_tlas_and_libs"),
        *(
            f"{_SOURCE}.directory.jsonnet.{kind}[].{field}"
            for kind in ("extVars", "tlas")
            for field in ("name", "value", "code")
        ),
        f"{_SOURCE}.directory.jsonnet.libs",
    ),
    f"{_SOURCE}.directory.disableExtensionFilter": Refused(
        "tether reads only .yaml, .yml, .json and .jsonnet files; lifting that filter would "
        "deploy other files too"
    ),
    # Config management plugins, configured by the administrator.
    **each(
        Supported(_PLUGINS + "test_a_named_plugin_gets_argo_cds_env_and_parameters"),
        f"{_SOURCE}.plugin.name",
        f"{_SOURCE}.plugin.env[].name",
        f"{_SOURCE}.plugin.env[].value",
    ),
    **each(
        Supported(_RENDERING + "test_plugin_env_prefixes_user_env_and_exports_parameters"),
        *(f"{_SOURCE}.plugin.parameters[].{f}" for f in ("name", "string", "array", "map")),
    ),
}
"""An Application source; ``spec.sources[]`` and an operation's sources share these rows."""

_RETRY = "spec.syncPolicy.retry"
_IGNORED = "spec.ignoreDifferences[]"
APPLICATION_FIELDS: dict[str, Row] = {
    "spec.project": Supported(
        CONTROLLER + "test_project_scope.py::"
        "test_an_object_tracked_as_the_apps_beyond_its_project_is_never_pruned_or_deleted"
    ),
    **each(
        Supported(_CLUSTERS, _BY_CLUSTER_SECRETS),
        "spec.destination.server",
        "spec.destination.name",
    ),
    "spec.destination.namespace": Supported(_BASIC_FLOW),
    **SOURCE_FIELDS,
    "spec.sourceHydrator": Refused(
        "source hydration (render into a Git branch, sync from there) is not implemented; "
        "tether would deploy spec.source instead"
    ),
    # Automated sync.
    "spec.syncPolicy.automated.prune": Supported(
        CONTROLLER + "test_prune_drift_refresh.py::"
        "test_a_file_removed_from_git_is_pruned_when_automated_prune_is_on"
    ),
    "spec.syncPolicy.automated.selfHeal": Supported(
        CONTROLLER + "test_prune_drift_refresh.py::"
        "test_self_heal_restores_a_deleted_object_and_reverts_a_hand_edit"
    ),
    "spec.syncPolicy.automated.allowEmpty": Supported(
        _AUTOSYNC + "test_pruning_everything_is_refused_unless_allow_empty"
    ),
    "spec.syncPolicy.automated.enabled": Supported(
        _AUTOSYNC + "test_automated_sync_is_off_without_the_policy_or_when_disabled"
    ),
    "spec.syncPolicy.syncOptions": Supported(
        CONTROLLER + "test_respect_ignore_differences.py::"
        "test_a_sync_keeps_an_ignored_field_only_with_respect_ignore_differences",
        "each option and value as the sync options table (core/sync/options.py) says",
    ),
    **each(
        Supported(
            CONTROLLER + "test_managed_namespace.py::"
            "test_the_namespace_create_namespace_makes_carries_the_managed_metadata_and_follows_it",
            "applied with CreateNamespace=true on every sync, to an existing namespace too (never "
            "deleted); a change makes the app OutOfSync until synced, as in Argo CD",
        ),
        "spec.syncPolicy.managedNamespaceMetadata.labels",
        "spec.syncPolicy.managedNamespaceMetadata.annotations",
    ),
    # Retries of a failed sync (the operation's own retry shares these rows).
    f"{_RETRY}.limit": Supported(_REQUEST + "test_the_operation_retry_wins_over_the_app_retry"),
    **each(
        Supported(_BACKOFF + "test_a_retry_strategy_is_read_with_argos_defaults"),
        f"{_RETRY}.backoff.duration",
        f"{_RETRY}.backoff.factor",
        f"{_RETRY}.backoff.maxDuration",
    ),
    f"{_RETRY}.refresh": Supported(
        _REQUEST + "test_a_retry_refreshes_when_the_app_or_the_operation_says_so"
    ),
    # What comparison ignores.
    **each(
        Supported(_IGNORE + "test_group_and_kind_are_globs_and_name_and_namespace_are_exact"),
        f"{_IGNORED}.group",
        f"{_IGNORED}.kind",
        f"{_IGNORED}.name",
        f"{_IGNORED}.namespace",
    ),
    f"{_IGNORED}.jsonPointers": Supported(
        CONTROLLER + "test_respect_ignore_differences.py::"
        "test_a_sync_keeps_an_ignored_field_only_with_respect_ignore_differences"
    ),
    **each(
        Supported(_GOLDEN),
        f"{_IGNORED}.jqPathExpressions",
        f"{_IGNORED}.managedFieldsManagers",
    ),
    "spec.info": Supported(_APP_ROUND_TRIP, FOR_PEOPLE),
    "spec.revisionHistoryLimit": Supported(
        _REQUEST + "test_a_success_adds_a_history_entry_and_keeps_the_limit"
    ),
    # A requested operation (Argo CD's API server writes it; so do `tether app sync` and users).
    "operation.sync.revision": Supported(
        _REQUEST + "test_the_operation_revision_overrides_the_spec_for_one_source"
    ),
    "operation.sync.revisions": Supported(
        _REQUEST + "test_the_operation_revisions_override_each_source_in_order"
    ),
    **each(
        Supported(_MANUAL_SYNC),
        "operation.sync.prune",
        "operation.sync.dryRun",
        "operation.sync.resources[].group",
        "operation.sync.resources[].kind",
        "operation.sync.resources[].name",
        "operation.sync.resources[].namespace",
    ),
    "operation.sync.syncStrategy.apply.force": Supported(
        _REQUEST + "test_the_request_carries_the_pinned_revision_and_the_strategy"
    ),
    "operation.sync.syncStrategy.hook.force": Supported(
        _OPERATION + "test_force_is_read_from_the_chosen_strategy_apply_or_hook"
    ),
    "operation.sync.syncOptions": Supported(
        CONTROLLER + "test_shared_resources.py::"
        "test_both_apps_are_warned_and_fail_on_shared_resource_refuses_the_sync",
        "each option and value as the sync options table (core/sync/options.py) says",
    ),
    "operation.sync.manifests": Refused(
        "syncing manifests sent with the request (argocd app sync --local) instead of those "
        "rendered from Git is not supported"
    ),
    "operation.sync.autoHealAttemptsCount": Supported(
        _AUTOSYNC + "test_self_heal_backs_off_between_attempts"
    ),
    "operation.initiatedBy.username": Supported(_MANUAL_SYNC, "recorded in the history"),
    "operation.initiatedBy.automated": Supported(
        _REQUEST + "test_without_a_retry_strategy_only_automated_syncs_retry"
    ),
    "operation.info": Supported(_APP_ROUND_TRIP, FOR_PEOPLE),
}
"""The fields of an Application (``spec`` and ``operation``; ``status`` is tether's output)."""

ALIASES: dict[str, Alias] = {
    "spec.sources[]": Alias(
        _SOURCE,
        "each source of a multi-source app is an ApplicationSource, rendered by the same code",
        _HELM + "test_multi_source_apps_take_value_files_from_a_ref_source",
    ),
    "operation.sync.source": Alias(
        _SOURCE,
        "an operation's source replaces spec.source for that sync (sync.request)",
        _REQUEST + "test_an_operations_sources_replace_the_specs_for_that_sync",
    ),
    "operation.sync.sources[]": Alias(
        _SOURCE,
        "an operation's sources replace spec.sources for that sync (sync.request)",
        _REQUEST + "test_an_operations_sources_replace_the_specs_for_that_sync",
    ),
    "operation.retry": Alias(
        _RETRY,
        "the same RetryStrategy; the operation's wins over the app's (sync.request)",
        _REQUEST + "test_the_operation_retry_wins_over_the_app_retry",
    ),
}
"""Places that share another place's rows, with the reason and the test that shows it."""
