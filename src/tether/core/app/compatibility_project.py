"""The AppProject's rows of the compatibility table: each field supported or refused.

The row types and the Application's rows are in ``compatibility_rows``.
"""

from __future__ import annotations

from tether.core.app.compatibility_rows import (
    CONTROLLER,
    FOR_PEOPLE,
    ORPHANS,
    POLICY,
    PROJECT_ROUND_TRIP,
    UNIT,
    UNVERIFIED,
    Refused,
    Row,
    Supported,
    each,
)

_WINDOW = "spec.syncWindows[]"
_WINDOWS = UNIT + "core/app/test_syncwindows.py::"
_WINDOWS_IT = CONTROLLER + "test_sync_windows.py::"
_RBAC = UNIT + "core/auth/test_rbac.py::test_the_rbac_matrix_answers_each_request_as_argo_cd_does"
_CLUSTER_LISTS = ("clusterResourceWhitelist", "clusterResourceBlacklist")
_NAMESPACED_LISTS = ("namespaceResourceWhitelist", "namespaceResourceBlacklist")
PROJECT_FIELDS: dict[str, Row] = {
    "spec.sourceRepos": Supported(
        POLICY + "test_source_repositories_are_checked_against_source_repos"
    ),
    "spec.sourceNamespaces": Supported(
        POLICY + "test_applications_outside_the_control_plane_need_source_namespaces"
    ),
    **each(
        Supported(
            POLICY + "test_a_project_permits_another_cluster_by_its_name_or_its_server_with_globs"
        ),
        "spec.destinations[].server",
        "spec.destinations[].name",
    ),
    **each(
        Supported(POLICY + "test_destinations_are_checked_against_the_project"),
        "spec.destinations[].namespace",
    ),
    **each(
        Supported(POLICY + "test_kinds_are_checked_against_the_white_and_blacklists"),
        *(f"spec.{name}[].{field}" for name in _CLUSTER_LISTS for field in ("group", "kind")),
        *(f"spec.{name}[].{field}" for name in _NAMESPACED_LISTS for field in ("group", "kind")),
        "spec.clusterResourceWhitelist[].name",
    ),
    "spec.clusterResourceBlacklist[].name": Supported(
        POLICY + "test_refused_resources_are_listed_with_their_reason"
    ),
    **each(
        Supported(ORPHANS, "an OrphanedResourceWarning on the project's apps"),
        "spec.orphanedResources.warn",
        "spec.orphanedResources.ignore[].group",
        "spec.orphanedResources.ignore[].kind",
        "spec.orphanedResources.ignore[].name",
    ),
    "spec.description": Supported(PROJECT_ROUND_TRIP, FOR_PEOPLE),
    **each(
        Supported(
            _WINDOWS_IT
            + "test_a_deny_window_holds_an_automated_sync_and_releases_it_when_it_closes"
        ),
        f"{_WINDOW}.kind",
        f"{_WINDOW}.schedule",
        f"{_WINDOW}.duration",
        f"{_WINDOW}.applications",
    ),
    f"{_WINDOW}.namespaces": Supported(
        _WINDOWS_IT + "test_a_held_automated_sync_goes_as_soon_as_its_window_is_removed"
    ),
    f"{_WINDOW}.clusters": Supported(
        _WINDOWS + "test_clusters_match_the_destination_as_the_spec_names_it"
    ),
    f"{_WINDOW}.andOperator": Supported(
        _WINDOWS + "test_with_the_and_operator_every_selector_given_must_match"
    ),
    f"{_WINDOW}.manualSync": Supported(
        _WINDOWS
        + "test_manual_sync_passes_a_deny_window_only_when_every_active_deny_window_allows_it",
        "tether app sync and rollback are refused naming the window; an operation written anyway "
        "waits",
    ),
    f"{_WINDOW}.timeZone": Supported(
        _WINDOWS + "test_the_time_zone_sets_the_wall_clock_of_the_schedule",
        "the zone's own wall clock, as CronJobs; Argo CD shifts UTC by the offset of the moment",
    ),
    f"{_WINDOW}.syncOverrun": Supported(
        _WINDOWS + "test_a_sync_started_before_a_deny_window_opened_goes_on_with_sync_overrun"
    ),
    f"{_WINDOW}.description": Supported(PROJECT_ROUND_TRIP, FOR_PEOPLE),
    **each(
        Supported(
            CONTROLLER + "test_impersonation.py::"
            "test_a_sync_runs_as_the_projects_service_account_and_fails_where_it_may_not_write",
            "always on when set (Argo CD also needs application.sync.impersonation.enabled); no "
            "match uses the controller's credentials; comparisons' dry runs do too",
        ),
        "spec.destinationServiceAccounts[].server",
        "spec.destinationServiceAccounts[].namespace",
    ),
    "spec.destinationServiceAccounts[].defaultServiceAccount": Supported(
        POLICY + "test_a_sync_impersonates_the_first_destination_service_account_that_matches"
    ),
    "spec.signatureKeys": Refused(UNVERIFIED),
    "spec.sourceIntegrity": Refused(UNVERIFIED),
    "spec.permitOnlyProjectScopedClusters": Refused(
        "tether reads no cluster Secrets, so it cannot tell which clusters are scoped to this "
        "project: Argo CD refuses a destination no Secret scopes to it, tether would deploy there"
    ),
    **each(
        Supported(
            _RBAC,
            "honoured by the API server: a role's policies, groups and tokens act only inside "
            "their project",
        ),
        "spec.roles[].name",
        "spec.roles[].policies",
        "spec.roles[].groups",
    ),
    "spec.roles[].description": Supported(PROJECT_ROUND_TRIP, FOR_PEOPLE),
    **each(
        Supported(
            UNIT + "core/auth/test_tokens.py::"
            "test_a_token_listed_only_in_the_roles_older_jwt_tokens_is_honoured",
            "older Argo CD's list; new tokens are listed in status.jwtTokensByRole",
        ),
        "spec.roles[].jwtTokens[].iat",
        "spec.roles[].jwtTokens[].exp",
        "spec.roles[].jwtTokens[].id",
    ),
}
"""The fields of an AppProject (``spec``; ``status`` is output)."""
