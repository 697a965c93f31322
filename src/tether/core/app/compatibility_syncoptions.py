"""The sync options table: every option tether parses (``core/sync/options.py``), with its proof.

``docs/compatibility.md`` shows it beside the options' values; a unit test fails when an option
has no row here or a proof names no test.
"""

from __future__ import annotations

from tether.core.app.compatibility_rows import Row, Supported

_SYNC = "tests/unit/core/sync/"
_CONTROLLER = "tests/integration/controller/"
_APPLY_MODES = _CONTROLLER + "test_apply_modes.py::"

SYNC_OPTIONS: dict[str, Row] = {
    "Prune": Supported(
        _CONTROLLER
        + "test_confirmations.py::test_a_prune_confirm_prune_waits_until_it_is_confirmed",
        "confirm waits for an approval, false keeps the object",
    ),
    "PruneLast": Supported(
        _SYNC + "test_prune.py::test_prune_last_prunes_after_every_wave_is_applied"
    ),
    "PrunePropagationPolicy": Supported(
        _SYNC + "test_prune.py::test_pruned_objects_are_deleted_with_the_propagation_asked_for"
    ),
    "Validate": Supported(
        _CONTROLLER + "test_field_validation.py::"
        "test_a_misspelt_field_fails_the_sync_naming_it_until_validate_false_says_otherwise"
    ),
    "SkipDryRunOnMissingResource": Supported(
        _SYNC
        + "test_first_step.py::test_a_dry_run_of_a_kind_the_server_lacks_is_recorded_as_skipped"
    ),
    "ApplyOutOfSyncOnly": Supported(
        _SYNC
        + "test_first_step.py::test_apply_out_of_sync_only_dry_runs_and_applies_only_what_differs"
    ),
    "Replace": Supported(
        _CONTROLLER + "test_field_validation.py::"
        "test_a_typo_added_to_a_replaced_object_fails_its_sync_and_changes_nothing"
    ),
    "Force": Supported(
        _APPLY_MODES + "test_force_true_replaces_an_object_whose_immutable_field_changed"
    ),
    "ServerSideApply": Supported(
        _APPLY_MODES + "test_server_side_apply_false_writes_client_side_and_removes_what_git_drops",
        "on by default (Argo CD's default is off); false writes as kubectl apply does, under "
        "tether's field manager",
    ),
    "ClientSideApplyMigration": Supported(
        _APPLY_MODES + "test_fields_kubectl_applied_client_side_are_removed_once_git_drops_them",
        "migrates kubectl-client-side-apply (or the manager the Application's "
        "argocd.argoproj.io/client-side-apply-migration-manager annotation names) and every "
        "Update manager that wrote the last-applied annotation (Argo CD's client-side syncs)",
    ),
    "CreateNamespace": Supported(
        "tests/e2e/test_app_cli.py::test_a_sync_with_create_namespace_succeeds"
    ),
    "RespectIgnoreDifferences": Supported(
        _CONTROLLER + "test_respect_ignore_differences.py::"
        "test_a_sync_keeps_an_ignored_field_only_with_respect_ignore_differences"
    ),
    "FailOnSharedResource": Supported(
        _CONTROLLER + "test_shared_resources.py::"
        "test_both_apps_are_warned_and_fail_on_shared_resource_refuses_the_sync"
    ),
    "Delete": Supported(
        _CONTROLLER + "test_confirmations.py::"
        "test_delete_confirm_waits_for_a_confirmation_and_delete_false_outlives_its_app"
    ),
}
"""Every sync option, supported with the test that proves it."""
