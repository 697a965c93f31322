import dataclasses
from typing import Any

import pytest

from tests.unit.model.examples import load, minimal_application
from tether.core.app import destinations, policy
from tether.model.application import parse_application
from tether.model.clusters import IN_CLUSTER, ClusterEntry, ClusterRegistry
from tether.model.errors import InvalidInputError
from tether.model.project import AppProject, default_project, parse_project
from tether.model.resources import ResourceKey


def _project(**spec: Any) -> AppProject:
    return parse_project({"metadata": {"name": "team-a"}, "spec": spec})


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://Git.Example.com/Org/App.git", "https://git.example.com/org/app"),
        ("git@git.example.com:org/app.git", "git@git.example.com/org/app"),
        ("ssh://git@git.example.com/org/app", "git@git.example.com/org/app"),
        ("  https://git.example.com/org/app  ", "https://git.example.com/org/app"),
    ],
)
def test_repository_urls_are_normalized_before_matching(url: str, normalized: str) -> None:
    assert policy.normalize_repo_url(url) == normalized


# ---- sources ------------------------------------------------------------------------------------

SOURCES = [
    # (sourceRepos, repository, permitted, why)
    (["*"], "https://anything.example.com/x.git", True, "wildcard"),
    ([], "https://git.example.com/org/app", False, "nothing listed, nothing permitted"),
    (["https://git.example.com/org/app"], "https://GIT.example.com/org/app.git", True, "case"),
    (["git@git.example.com:org/app"], "ssh://git@git.example.com/org/app.git", True, "ssh forms"),
    (["https://git.example.com/org/*"], "https://git.example.com/org/app", True, "one segment"),
    (["https://git.example.com/org/*"], "https://git.example.com/org/sub/app", False, "two"),
    (["https://git.example.com/org/**"], "https://git.example.com/org/sub/app", True, "**"),
    (["https://git.example.com/org/app"], "https://git.example.com/org/app2", False, "exact"),
    (["*", "!https://git.example.com/org/secrets"], "https://git.example.com/org/secrets", False,
     "a matching negation denies even next to *"),
    (["*", "!https://git.example.com/org/secrets"], "https://git.example.com/org/app", True,
     "a non-matching negation leaves the rest"),
    (["!https://git.example.com/org/secrets"], "https://git.example.com/org/app", True,
     "Argo CD quirk: a non-matching negation alone counts as a match"),
    (["!https://git.example.com/org/*"], "https://git.example.com/org/app", False, "negated glob"),
]  # fmt: skip


@pytest.mark.parametrize(("repos", "url", "permitted", "why"), SOURCES)
def test_source_repositories_are_checked_against_source_repos(
    repos: list[str], url: str, permitted: bool, why: str
) -> None:
    assert policy.is_source_permitted(_project(sourceRepos=repos), url) is permitted, why


# ---- destinations -------------------------------------------------------------------------------

LOCAL = "https://kubernetes.default.svc"
DESTINATIONS = [
    # (destinations, (server, name, namespace), permitted, why)
    ([{"server": LOCAL, "namespace": "web"}], (LOCAL, "", "web"), True, "exact"),
    ([{"server": LOCAL, "namespace": "web"}], (LOCAL, "", "db"), False, "other namespace"),
    ([{"server": "https://prod", "namespace": "web"}], (LOCAL, "", "web"), False, "other server"),
    ([{"server": "https://*.svc", "namespace": "*"}], (LOCAL, "", "db"), True, "globs"),
    ([{"server": LOCAL, "namespace": "team-*"}], (LOCAL, "", "team"), False, "prefix needs more"),
    ([{"name": "staging", "namespace": "*"}], ("", "staging", "web"), True, "by cluster name"),
    ([{"name": "staging", "namespace": "*"}], ("", "prod", "web"), False, "other name"),
    ([{"server": "*", "namespace": ""}], (LOCAL, "", ""), True, "empty namespace only matches ''"),
    ([{"server": "*", "namespace": ""}], (LOCAL, "", "web"), False, "... and nothing else"),
    ([{"server": f"!{LOCAL}", "namespace": "*"}], (LOCAL, "", "web"), False, "negated server"),
    ([{"server": "!https://prod", "namespace": "web"}], (LOCAL, "", "web"), True,
     "a non-matching negated server permits"),
    ([{"server": LOCAL, "namespace": "!kube-*"}], (LOCAL, "", "kube-system"), False,
     "negated namespace"),
    ([{"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!kube-system"}],
     (LOCAL, "", "kube-system"), False, "a later negation beats an earlier wildcard"),
    ([{"server": LOCAL, "namespace": "!{kube-system,tether}"},
      {"server": "https://prod", "namespace": "*"}],
     ("https://prod", "", "kube-system"), True, "a negation for another cluster does not apply"),
    ([{"name": "!staging", "namespace": "*"}], ("", "staging", "web"), False, "negated name"),
    ([], (LOCAL, "", "web"), False, "no destinations, nothing permitted"),
]  # fmt: skip


@pytest.mark.parametrize(("destinations", "where", "permitted", "why"), DESTINATIONS)
def test_destinations_are_checked_against_the_project(
    destinations: list[dict[str, str]], where: tuple[str, str, str], permitted: bool, why: str
) -> None:
    project = _project(destinations=destinations)
    assert policy.is_destination_permitted(project, *where) is permitted, why


@pytest.mark.parametrize(
    ("namespaces", "app_namespace", "permitted"),
    [
        ([], "tether", True),
        ([], "", True),
        ([], "team-a", False),
        (["team-*"], "team-a", True),
        (["/^team-[a-c]$/"], "team-b", True),
        (["/^team-[a-c]$/"], "team-d", False),
        (["/[/"], "team-a", False),
    ],
)
def test_applications_outside_the_control_plane_need_source_namespaces(
    namespaces: list[str], app_namespace: str, permitted: bool
) -> None:
    project = _project(sourceNamespaces=namespaces)
    assert policy.is_app_namespace_permitted(project, app_namespace, "tether") is permitted


# ---- resources ----------------------------------------------------------------------------------

RBAC = "rbac.authorization.k8s.io"
KINDS = [
    # (spec, (group, kind, name, namespaced), problem or "", why)
    ({}, ("apps", "Deployment", "web", True), "", "unset namespaced lists allow everything"),
    ({"namespaceResourceWhitelist": []}, ("apps", "Deployment", "web", True),
     "namespaced kind is not in namespaceResourceWhitelist", "an empty whitelist allows none"),
    ({"namespaceResourceWhitelist": [{"group": "apps", "kind": "*"}]},
     ("apps", "Deployment", "web", True), "", "whitelisted"),
    ({"namespaceResourceWhitelist": [{"group": "apps", "kind": "*"}]},
     ("", "ConfigMap", "web", True), "namespaced kind is not in namespaceResourceWhitelist",
     "not whitelisted"),
    ({"namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}]},
     ("", "ResourceQuota", "q", True), "namespaced kind is in namespaceResourceBlacklist",
     "blacklisted"),
    ({}, ("", "Namespace", "web", False),
     "cluster-scoped resource is not in clusterResourceWhitelist", "cluster kinds: whitelist"),
    ({"clusterResourceWhitelist": []}, ("", "Namespace", "web", False),
     "cluster-scoped resource is not in clusterResourceWhitelist", "empty whitelist"),
    ({"clusterResourceWhitelist": [{"group": "*", "kind": "*"}]},
     (RBAC, "ClusterRole", "admin", False), "", "everything whitelisted"),
    ({"clusterResourceWhitelist": [{"group": RBAC, "kind": "ClusterRole", "name": "team-a-*"}]},
     (RBAC, "ClusterRole", "team-a-view", False), "", "name pattern matches"),
    ({"clusterResourceWhitelist": [{"group": RBAC, "kind": "ClusterRole", "name": "team-a-*"}]},
     (RBAC, "ClusterRole", "admin", False),
     "cluster-scoped resource is not in clusterResourceWhitelist", "name pattern does not"),
    ({"clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
      "clusterResourceBlacklist": [{"group": RBAC, "kind": "*"}]},
     (RBAC, "ClusterRoleBinding", "x", False),
     "cluster-scoped resource is in clusterResourceBlacklist", "blacklist wins"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "resource", "problem", "why"), KINDS)
def test_kinds_are_checked_against_the_white_and_blacklists(
    spec: dict[str, Any], resource: tuple[str, str, str, bool], problem: str, why: str
) -> None:
    assert policy.group_kind_problem(_project(**spec), *resource) == problem, why


def test_the_default_project_permits_everything() -> None:
    project = parse_project(default_project("tether"))
    assert policy.group_kind_problem(project, RBAC, "ClusterRole", "admin", False) == ""
    assert policy.is_source_permitted(project, "git@anywhere.example.com:x/y.git")
    assert policy.is_destination_permitted(project, "https://far.example.com", "", "any")


def test_a_missing_default_project_is_the_built_in_one() -> None:
    found = policy.project_or_default("default", None, "tether")
    assert found is not None and found.spec.source_repos == ["*"]
    assert policy.project_or_default("team-a", None, "tether") is None
    stored = _project(sourceRepos=[])
    assert policy.project_or_default("default", stored, "tether") is stored


# ---- whole Applications -------------------------------------------------------------------------


def test_a_permitted_application_has_no_problems() -> None:
    project = _project(sourceRepos=["https://git.example.com/*"], destinations=[
        {"server": LOCAL, "namespace": "foo"}
    ])  # fmt: skip
    app = parse_application(minimal_application())
    assert policy.check_application(app, project, "tether", cluster=IN_CLUSTER) == []


def test_every_refusal_names_the_application_the_project_and_the_reason() -> None:
    tenant = load("project-tenant.yaml")
    for field in ("syncWindows", "signatureKeys", "destinationServiceAccounts"):
        del tenant["spec"][field]  # refused fields have their own tests (test_compatibility.py)
    project = parse_project(tenant)
    manifest = minimal_application(
        sources=[
            {"repoURL": "https://git.example.com/team-a/web.git"},
            {"repoURL": "https://git.example.com/team-a/secrets.git", "ref": "values"},
        ],
        destination={"server": LOCAL, "namespace": "kube-system"},
    )
    manifest["metadata"]["namespace"] = "team-b"
    problems = policy.check_application(
        parse_application(manifest), project, "argocd", cluster=IN_CLUSTER
    )
    assert problems == [
        "Application team-b/foo: namespace 'team-b' is not in sourceNamespaces of project 'team-a'",
        "Application team-b/foo: repository 'https://git.example.com/team-a/secrets.git' "
        "is not permitted in project 'team-a'",
        f"Application team-b/foo: destination cluster '{LOCAL}' namespace 'kube-system' "
        "is not permitted in project 'team-a'",
    ]


def test_the_in_cluster_name_and_url_are_interchangeable() -> None:
    project = _project(sourceRepos=["*"], destinations=[{"name": "in-cluster", "namespace": "*"}])
    by_url = parse_application(minimal_application())
    assert policy.check_application(by_url, project, "tether", cluster=IN_CLUSTER) == []


def test_refused_resources_are_listed_with_their_reason() -> None:
    project = parse_project(load("project-tenant.yaml"))
    app = parse_application(
        minimal_application(destination={"server": LOCAL, "namespace": "team-a-web"})
    )
    resources = [
        ResourceKey("apps", "Deployment", "team-a-web", "web"),
        ResourceKey("", "ResourceQuota", "team-a-web", "quota"),
        ResourceKey("", "Namespace", "", "team-a-web"),
        ResourceKey(RBAC, "ClusterRole", "", "team-a-admin"),
        ResourceKey("", "ConfigMap", "kube-system", "leak"),
    ]
    assert policy.check_resources(app, project, resources, cluster=IN_CLUSTER) == [
        "Application tether/foo: resource ResourceQuota:team-a-web/quota is not permitted in "
        "project 'team-a': namespaced kind is in namespaceResourceBlacklist",
        f"Application tether/foo: resource {RBAC}/ClusterRole:team-a-admin is not permitted in "
        "project 'team-a': cluster-scoped resource is in clusterResourceBlacklist",
        "Application tether/foo: resource ConfigMap:kube-system/leak is not permitted in "
        "project 'team-a': namespace 'kube-system' is not a permitted destination",
    ]


def test_a_live_object_beyond_the_project_is_not_the_apps() -> None:
    project = parse_project(load("project-tenant.yaml"))
    assert (
        policy.resource_problem(
            project, ResourceKey("", "ConfigMap", "team-a-web", "a"), cluster=IN_CLUSTER
        )
        == ""
    )
    beyond = ResourceKey("", "ConfigMap", "kube-system", "planted")
    assert policy.resource_problem(project, beyond, cluster=IN_CLUSTER) == (
        "namespace 'kube-system' is not a permitted destination"
    )


@pytest.mark.parametrize(
    ("retry", "named"),
    [
        ({"limit": 3, "backoff": {"factor": 0}}, "spec.syncPolicy.retry.backoff.factor"),
        ({"backoff": {"duration": "1e309h"}}, "spec.syncPolicy.retry.backoff.duration"),
        ({"backoff": {"maxDuration": "-1s"}}, "spec.syncPolicy.retry.backoff.maxDuration"),
    ],
)
def test_a_retry_strategy_that_cannot_be_followed_is_refused_by_name(
    retry: dict[str, Any], named: str
) -> None:
    project = _project(sourceRepos=["*"], destinations=[{"server": "*", "namespace": "*"}])
    app = parse_application(minimal_application(syncPolicy={"retry": retry}))
    [problem] = policy.check_application(app, project, "tether", cluster=IN_CLUSTER)
    assert problem.startswith(f"Application tether/foo: {named}")


def test_the_cluster_tether_runs_in_is_a_destination_by_url_or_name() -> None:
    project = _project(
        sourceRepos=["*"], destinations=[{"server": "*", "name": "*", "namespace": "*"}]
    )
    for destination in (
        {"server": LOCAL, "namespace": "a"},
        {"name": "in-cluster", "namespace": "a"},
    ):
        app = parse_application(minimal_application(destination=destination))
        cluster = destinations.resolve(app.spec.destination, ClusterRegistry())
        assert cluster == IN_CLUSTER
        assert policy.check_application(app, project, "tether", cluster=cluster) == []


PROD = ClusterEntry(name="prod-eu", server="https://prod.example:6443")


@pytest.mark.parametrize(
    ("allowed", "permitted"),
    [
        ({"name": "prod-eu"}, True),
        ({"name": "prod-*"}, True),
        ({"server": "https://prod.example:6443"}, True),
        ({"server": "https://*.example:*"}, True),
        ({"name": "staging"}, False),
        ({"server": LOCAL}, False),
        ({"name": "!prod-*"}, False),
    ],
)
def test_a_project_permits_another_cluster_by_its_name_or_its_server_with_globs(
    allowed: dict[str, str], permitted: bool
) -> None:
    project = _project(sourceRepos=["*"], destinations=[{**allowed, "namespace": "*"}])
    for destination in ({"name": "prod-eu"}, {"server": "https://prod.example:6443"}):
        app = parse_application(minimal_application(destination={**destination, "namespace": "w"}))
        problems = policy.check_application(app, project, "tether", cluster=PROD)
        assert (problems == []) is permitted, (allowed, destination)
        if not permitted:
            named = destination.get("name") or destination["server"]
            assert problems == [
                f"Application tether/foo: destination cluster {named!r} namespace 'w' "
                "is not permitted in project 'team-a'"
            ]


def test_a_clusters_namespaces_bound_where_namespaced_resources_may_go() -> None:
    project = _project(
        sourceRepos=["*"],
        destinations=[{"server": "*", "namespace": "*"}],
        clusterResourceWhitelist=[{"group": "*", "kind": "*"}],
    )
    bounded = ClusterEntry(name="edge", server="https://edge:6443", namespaces=("shop",))
    inside = ResourceKey("", "ConfigMap", "shop", "a")
    outside = ResourceKey("", "ConfigMap", "billing", "a")
    cluster_scoped = ResourceKey("", "Namespace", "", "shop")
    assert policy.resource_problem(project, inside, cluster=bounded) == ""
    assert policy.resource_problem(project, outside, cluster=bounded) == (
        "namespace 'billing' is not among the namespaces of cluster 'edge'"
    )
    assert "cluster 'edge' manages no cluster-scoped resources" in policy.resource_problem(
        project, cluster_scoped, cluster=bounded
    )
    with_cluster_resources = dataclasses.replace(bounded, cluster_resources=True)
    assert policy.resource_problem(project, cluster_scoped, cluster=with_cluster_resources) == ""
    unbounded = ClusterEntry(name="edge", server="https://edge:6443")
    assert policy.resource_problem(project, outside, cluster=unbounded) == ""
    assert policy.resource_problem(project, cluster_scoped, cluster=unbounded) == ""


def test_a_sync_impersonates_the_first_destination_service_account_that_matches() -> None:
    accounts = [
        {"server": "https://elsewhere", "namespace": "*", "defaultServiceAccount": "x"},
        {"server": "*", "namespace": "shop-*", "defaultServiceAccount": "deployer"},
        {"server": "*", "namespace": "*", "defaultServiceAccount": "ops:admin"},
    ]
    project = _project(destinationServiceAccounts=accounts)

    def account(namespace: str) -> str:
        destination = {"server": LOCAL, "namespace": namespace}
        return policy.service_account(
            parse_application(minimal_application(destination=destination)), project, server=LOCAL
        )

    assert account("shop-eu") == "system:serviceaccount:shop-eu:deployer"
    assert account("billing") == "system:serviceaccount:ops:admin"
    app = parse_application(minimal_application())
    assert policy.service_account(app, _project(), server=LOCAL) == ""


@pytest.mark.parametrize("name", ["", "  ", "dep*", "a/b", "[x]"])
def test_a_destination_service_account_that_is_no_name_is_refused_naming_the_entry(
    name: str,
) -> None:
    accounts = [{"server": "*", "namespace": "*", "defaultServiceAccount": name}]
    with pytest.raises(InvalidInputError, match=r"destinationServiceAccounts\[0\]"):
        policy.service_account(
            parse_application(minimal_application()),
            _project(destinationServiceAccounts=accounts),
            server=LOCAL,
        )
