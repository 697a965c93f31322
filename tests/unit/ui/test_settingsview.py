"""What the settings pages read of the API's repositories, clusters, projects and accounts."""

from __future__ import annotations

from tether.ui import settingsview


def test_a_project_is_read_with_its_rules_roles_tokens_and_windows() -> None:
    project = settingsview.project_view(
        {
            "metadata": {"name": "shop/x"},
            "spec": {
                "description": "The shop",
                "sourceRepos": ["https://git.test/*"],
                "destinations": [{"server": "https://k8s.test", "namespace": "shop-*"}],
                "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
                "namespaceResourceBlacklist": [{"group": "apps", "kind": "DaemonSet"}],
                "roles": [
                    {
                        "name": "ci",
                        "policies": ["p, proj:shop/x:ci, applications, sync, shop/x/*, allow"],
                        "groups": ["ci-bots"],
                        "jwtTokens": [{"iat": 1700000000, "exp": 0, "id": "build"}],
                    }
                ],
                "syncWindows": [
                    {"kind": "deny", "schedule": "0 22 * * *", "duration": "8h", "manualSync": True}
                ],
                "orphanedResources": {},
            },
            "status": {
                "jwtTokensByRole": {"ci": {"items": [{"iat": 1700000060, "exp": 1700003660}]}}
            },
        }
    )
    assert project.href == "/settings/projects/shop%2Fx"
    assert project.destinations[0].namespace == "shop-*"
    assert [k.text for k in project.cluster_allow] == ["Namespace"]
    assert [k.text for k in project.namespace_deny] == ["DaemonSet.apps"]
    role = project.roles[0]
    assert role.groups == ("ci-bots",)
    assert role.tokens == (  # the server's list first, then older Argo CD's
        settingsview.Token("", "2023-11-14 22:14 UTC", "2023-11-14 23:14 UTC"),
        settingsview.Token("build", "2023-11-14 22:13 UTC", ""),
    )
    assert project.windows[0].manual_sync
    assert project.orphaned_warn is True  # Argo CD warns unless told not to


def test_a_project_without_rules_reads_as_allowing_nothing_and_watching_no_orphans() -> None:
    project = settingsview.project_view({"metadata": {"name": "empty"}, "spec": {}})
    assert project.source_repos == ()
    assert project.destinations == ()
    assert project.roles == ()
    assert project.orphaned_warn is None


def test_an_account_token_that_never_expires_has_no_expiry() -> None:
    account = settingsview.account_view(
        {
            "name": "ci",
            "enabled": False,
            "capabilities": ["apiKey"],
            "tokens": [{"id": "k1", "issuedAt": 1700000000, "expiresAt": 0}],
        }
    )
    assert not account.enabled
    assert account.tokens == (settingsview.Token("k1", "2023-11-14 22:13 UTC", ""),)


def test_odd_shapes_are_read_as_nothing_rather_than_failing() -> None:
    cluster = settingsview.cluster_view({"server": "https://k8s.test", "labels": "x", "config": {}})
    assert cluster.labels == {}
    assert not cluster.insecure
    repo = settingsview.repo_view({"repo": "https://git.test/a.git", "insecure": True})
    assert (repo.type, repo.insecure) == ("git", True)
    assert settingsview.views([{"repo": "r"}, "junk"], settingsview.repo_view)[0].url == "r"
    assert settingsview.when(True) == settingsview.when(-1) == settingsview.when("1") == ""
