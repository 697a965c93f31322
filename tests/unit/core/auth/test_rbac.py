"""The RBAC matrix: Argo CD's documented examples and the rules its code follows."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tether.core.auth import rbac
from tether.core.auth.identity import Caller, CallerKind
from tether.model.project import AppProject, parse_project

B = "proj:team-beta-project"
BETA = parse_project(
    {
        "metadata": {"name": "team-beta-project"},
        "spec": {
            "roles": [
                {
                    "name": "admin",
                    "policies": [f"p, {B}:admin, applications, *, team-beta-project/*, allow"],
                    "groups": ["my-org:team-beta"],
                },
                {
                    "name": "viewer",
                    "policies": [
                        f"p, {B}:viewer, applications, get, team-beta-project/*, allow",
                        f"p, {B}:viewer, applications, get, team-beta-project/secret, deny",
                    ],
                },
            ]
        },
    }
)

SNEAKY = parse_project(
    {
        "metadata": {"name": "sneaky"},
        "spec": {
            "roles": [
                {
                    "name": "r",
                    # Tries to grant a global resource: the whole project policy is ignored.
                    "policies": [
                        "p, proj:sneaky:r, applications, get, sneaky/*, allow",
                        "p, proj:sneaky:r, accounts, update, *, allow",
                    ],
                    "groups": ["sneaks"],
                }
            ]
        },
    }
)


@dataclasses.dataclass(frozen=True)
class Setup:
    csv: str = ""
    default: str = ""
    mode: str = "glob"
    project: AppProject | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def config(self) -> rbac.RbacConfig:
        data: dict[str, str] = {"policy.csv": self.csv, "policy.default": self.default}
        data["policy.matchMode"] = self.mode
        data.update(self.extra)
        return rbac.RbacConfig.from_configmap(data)


NONE = Setup()
ALICE_RO = Setup("g, alice, role:readonly")
DEFAULT_RO = Setup(default="role:readonly")
R5 = Setup("p, alice, applications, get, default/secret-app, deny", default="role:readonly")
R6 = Setup("p, example-user, applications, get, *, allow")
R7 = Setup("p, example-user, logs, get, example-project/my-app, allow")
R8 = Setup("p, example-user, applications, get, */app-namespace/*, allow")
R9 = Setup(
    "p, example-user, applications, delete, default/prod-app, deny\n"
    "p, example-user, applications, delete/*/Pod/*/*, default/prod-app, allow"
)
R10 = Setup(
    "p, example-user, applications, update, default/prod-app, allow\n"
    "p, example-user, applications, update/*, default/prod-app, deny"
)
R11 = Setup("p, example-user, applications, action/extensions/DaemonSet/*, default/*, allow")
R12 = Setup("p, example-user, extensions, invoke, httpbin, allow")
R13 = Setup(
    "p, role:my-role, clusters, *, my-project/https://api.example.com:6443, allow\n"
    "g, bob, role:my-role"
)
R14 = Setup(project=BETA)
R16 = Setup("p, my-org:team-alpha, applications, sync, my-project/*, allow")
R16B = Setup(
    "p, my-org:team-alpha, applications, sync, my-project/*, allow\ng, my-org:team-alpha, role:x"
)
R18 = Setup(
    "p, alice, applications, sync, default/*, deny\n"
    "p, role:deployer, applications, sync, default/*, allow\n"
    "g, team, role:deployer"
)
REGEX = Setup("p, carol, applications, get, default/.*, allow", mode="regex")
GLOB_DOTS = Setup("p, carol, applications, get, default/.*, allow")
NESTED = Setup(
    "g, dave, role:ops\ng, role:ops, role:readonly\np, role:ops, applications, sync, */*, allow"
)
QUOTED = Setup('p, erin, repositories, get, "https://git.example.com/a,b", allow')
SPLIT = Setup(extra=(("policy.team.csv", "g, frank, role:admin"),))
DENY_GROUP = Setup(
    "p, role:ro-deny, applications, get, default/hidden, deny\n"
    "g, auditors, role:readonly\ng, auditors, role:ro-deny\ng, helpers, role:readonly"
)
SCOPES_EMAIL = Setup("g, grace@example.com, role:admin", extra=(("scopes", "[groups, email]"),))
DENY_ONLY = Setup("p, henry, applications, get, */*, deny")
BRACES = Setup('p, ivan, applications, sync, "{staging,qa}/*", allow')


def user(sub: str, *groups: str, kind: CallerKind = "login") -> Caller:
    return Caller(subject=sub, kind=kind, groups=groups)


def sso(sub: str, *groups: str) -> Caller:
    return Caller(subject=sub, kind="sso", groups=groups, issuer="https://idp.example")


def token(project: str, role: str) -> Caller:
    return Caller(subject=f"proj:{project}:{role}", kind="project")


ANON = Caller(subject="", kind="anonymous")

# (id, setup, caller, resource, action, object, allowed)
MATRIX: list[tuple[str, Setup, Caller, str, str, str, bool]] = [
    # Brief §3.5, rows 1-18 (Argo CD's documented examples and its code's rules).
    (
        "1 admin deletes any app",
        NONE,
        user("admin"),
        "applications",
        "delete",
        "default/guestbook",
        True,
    ),
    ("2 readonly reads", ALICE_RO, user("alice"), "applications", "get", "team/web", True),
    ("3 readonly cannot sync", ALICE_RO, user("alice"), "applications", "sync", "team/web", False),
    (
        "4 default role reads clusters",
        DEFAULT_RO,
        user("bob"),
        "clusters",
        "get",
        "https://kubernetes.default.svc",
        True,
    ),
    (
        "5 default role beats a deny",
        R5,
        user("alice"),
        "applications",
        "get",
        "default/secret-app",
        True,
    ),
    ("6 star spans slashes", R6, user("example-user"), "applications", "get", "p1/ns1/app1", True),
    (
        "7 logs of another app",
        R7,
        user("example-user"),
        "logs",
        "get",
        "example-project/other",
        False,
    ),
    (
        "8a app namespace matches",
        R8,
        user("example-user"),
        "applications",
        "get",
        "p1/app-namespace/a",
        True,
    ),
    ("8b other namespace", R8, user("example-user"), "applications", "get", "p1/other-ns/a", False),
    (
        "9a delete app denied",
        R9,
        user("example-user"),
        "applications",
        "delete",
        "default/prod-app",
        False,
    ),
    (
        "9b delete a pod allowed",
        R9,
        user("example-user"),
        "applications",
        "delete//Pod/prod/web-0",
        "default/prod-app",
        True,
    ),
    (
        "10 update sub-resource denied",
        R10,
        user("example-user"),
        "applications",
        "update/apps/Deployment/prod/web",
        "default/prod-app",
        False,
    ),
    (
        "11a daemonset action",
        R11,
        user("example-user"),
        "applications",
        "action/extensions/DaemonSet/restart",
        "default/a",
        True,
    ),
    (
        "11b deployment action",
        R11,
        user("example-user"),
        "applications",
        "action/apps/Deployment/restart",
        "default/a",
        False,
    ),
    ("12a extension invoked", R12, user("example-user"), "extensions", "invoke", "httpbin", True),
    ("12b other extension", R12, user("example-user"), "extensions", "invoke", "other", False),
    (
        "13a role grants a project cluster",
        R13,
        user("bob"),
        "clusters",
        "delete",
        "my-project/https://api.example.com:6443",
        True,
    ),
    ("13b not another cluster", R13, user("bob"), "clusters", "get", "my-cluster", False),
    (
        "14a project group syncs",
        R14,
        sso("u1", "my-org:team-beta"),
        "applications",
        "sync",
        "team-beta-project/api",
        True,
    ),
    (
        "14b not in another project",
        R14,
        sso("u1", "my-org:team-beta"),
        "applications",
        "sync",
        "other/api",
        False,
    ),
    (
        "15a token gets its project",
        R14,
        token("team-beta-project", "admin"),
        "projects",
        "get",
        "team-beta-project",
        True,
    ),
    (
        "15b token outside its project",
        R14,
        token("team-beta-project", "admin"),
        "applications",
        "get",
        "other/x",
        False,
    ),
    (
        "16a bare group line is inert",
        R16,
        sso("u2", "my-org:team-alpha"),
        "applications",
        "sync",
        "my-project/a",
        False,
    ),
    (
        "16b grouped, it applies",
        R16B,
        sso("u2", "my-org:team-alpha"),
        "applications",
        "sync",
        "my-project/a",
        True,
    ),
    ("17 group named admin", NONE, sso("u3", "admin"), "applications", "delete", "any/app", True),
    (
        "18 deny is per subject",
        R18,
        user("alice", "team"),
        "applications",
        "sync",
        "default/a",
        True,
    ),
    # The built-in roles.
    ("admin syncs", NONE, user("admin"), "applications", "sync", "p/a", True),
    ("admin overrides", NONE, user("admin"), "applications", "override", "p/a", True),
    (
        "admin runs actions",
        NONE,
        user("admin"),
        "applications",
        "action/apps/Deployment/restart",
        "p/a",
        True,
    ),
    ("admin reads logs", NONE, user("admin"), "logs", "get", "p/a", True),
    ("admin execs", NONE, user("admin"), "exec", "create", "p/a", True),
    ("admin updates accounts", NONE, user("admin"), "accounts", "update", "alice", True),
    ("admin creates projects", NONE, user("admin"), "projects", "create", "new", True),
    ("admin deletes clusters", NONE, user("admin"), "clusters", "delete", "https://k", True),
    ("admin has no extensions", NONE, user("admin"), "extensions", "invoke", "httpbin", False),
    ("admin gets appsets", NONE, user("admin"), "applicationsets", "get", "p/s", True),
    ("readonly reads accounts", ALICE_RO, user("alice"), "accounts", "get", "admin", True),
    (
        "readonly cannot update accounts",
        ALICE_RO,
        user("alice"),
        "accounts",
        "update",
        "admin",
        False,
    ),
    ("readonly reads logs", ALICE_RO, user("alice"), "logs", "get", "p/a", True),
    ("readonly cannot exec", ALICE_RO, user("alice"), "exec", "create", "p/a", False),
    (
        "readonly cannot delete repos",
        ALICE_RO,
        user("alice"),
        "repositories",
        "delete",
        "https://g",
        False,
    ),
    (
        "readonly reads write-repositories",
        ALICE_RO,
        user("alice"),
        "write-repositories",
        "get",
        "https://g",
        True,
    ),
    ("nobody without bindings", NONE, user("zoe"), "applications", "get", "default/a", False),
    ("empty subject is nobody", NONE, user(""), "applications", "get", "default/a", False),
    # Anonymous callers have the default role only.
    ("anonymous, no default", NONE, ANON, "applications", "get", "default/a", False),
    ("anonymous with readonly default", DEFAULT_RO, ANON, "applications", "get", "default/a", True),
    ("anonymous cannot sync", DEFAULT_RO, ANON, "applications", "sync", "default/a", False),
    # Match modes.
    ("regex is unanchored", REGEX, user("carol"), "applications", "get", "xdefault/a", True),
    ("regex matches", REGEX, user("carol"), "applications", "get", "default/a", True),
    (
        "glob takes dots literally",
        GLOB_DOTS,
        user("carol"),
        "applications",
        "get",
        "default/a",
        False,
    ),
    ("glob braces", BRACES, user("ivan"), "applications", "sync", "qa/x", True),
    ("glob braces exclude", BRACES, user("ivan"), "applications", "sync", "prod/x", False),
    # Roles, groups and files.
    ("roles nest", NESTED, user("dave"), "applications", "get", "p/a", True),
    ("nested role grants", NESTED, user("dave"), "applications", "sync", "p/a", True),
    ("nested role stops", NESTED, user("dave"), "applications", "delete", "p/a", False),
    (
        "quoted field holds a comma",
        QUOTED,
        user("erin"),
        "repositories",
        "get",
        "https://git.example.com/a,b",
        True,
    ),
    ("policy.x.csv joins", SPLIT, user("frank"), "applications", "delete", "p/a", True),
    (
        "group deny hits that group",
        DENY_GROUP,
        sso("u4", "auditors"),
        "applications",
        "get",
        "default/hidden",
        False,
    ),
    (
        "another group still allows",
        DENY_GROUP,
        sso("u4", "auditors", "helpers"),
        "applications",
        "get",
        "default/hidden",
        True,
    ),
    ("deny only without allow", DENY_ONLY, user("henry"), "applications", "get", "p/a", False),
    (
        "email scope value as group",
        SCOPES_EMAIL,
        sso("u5", "grace@example.com"),
        "clusters",
        "delete",
        "https://k",
        True,
    ),
    # Project roles.
    (
        "viewer role token reads",
        R14,
        token("team-beta-project", "viewer"),
        "applications",
        "get",
        "team-beta-project/api",
        True,
    ),
    (
        "viewer role token deny",
        R14,
        token("team-beta-project", "viewer"),
        "applications",
        "get",
        "team-beta-project/secret",
        False,
    ),
    (
        "viewer role token cannot sync",
        R14,
        token("team-beta-project", "viewer"),
        "applications",
        "sync",
        "team-beta-project/api",
        False,
    ),
    (
        "role token not a global",
        R14,
        token("team-beta-project", "admin"),
        "accounts",
        "get",
        "admin",
        False,
    ),
    (
        "role token another project",
        R14,
        token("other", "admin"),
        "applications",
        "get",
        "team-beta-project/api",
        False,
    ),
    (
        "group of a role gets the project",
        R14,
        sso("u1", "my-org:team-beta"),
        "projects",
        "get",
        "team-beta-project",
        True,
    ),
    (
        "invalid project policy is ignored",
        Setup(project=SNEAKY),
        sso("u6", "sneaks"),
        "applications",
        "get",
        "sneaky/a",
        False,
    ),
    (
        "invalid project policy grants nothing global",
        Setup(project=SNEAKY),
        token("sneaky", "r"),
        "accounts",
        "update",
        "admin",
        False,
    ),
    (
        "role admin via a token beats default",
        Setup(default="role:readonly", project=BETA),
        token("team-beta-project", "admin"),
        "applications",
        "delete",
        "team-beta-project/x",
        True,
    ),
    (
        "a token with default role elsewhere",
        Setup(default="role:readonly", project=BETA),
        token("team-beta-project", "admin"),
        "applications",
        "get",
        "other/x",
        False,
    ),
]


@pytest.mark.parametrize(
    ("setup", "caller", "resource", "action", "obj", "allowed"),
    [pytest.param(*row[1:], id=row[0]) for row in MATRIX],
)
def test_the_rbac_matrix_answers_each_request_as_argo_cd_does(
    setup: Setup, caller: Caller, resource: str, action: str, obj: str, allowed: bool
) -> None:
    config = setup.config()
    project = setup.project if setup.project is not None else None
    assert rbac.decide(config, caller, resource, action, obj, project) is allowed


def test_the_matrix_has_at_least_sixty_rows() -> None:
    assert len(MATRIX) >= 60


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"policy.csv": "p, a, b, c\n"}, "argocd-rbac-cm policy.csv line 1: a p line has 6 fields"),
        ({"policy.csv": "# c\ng, a\n"}, "argocd-rbac-cm policy.csv line 2: a g line has 3 fields"),
        ({"policy.x.csv": "p, a, b, c, d, maybe"}, "policy.x.csv line 1: the effect must be allow"),
        ({"policy.csv": "x, a, b"}, "line 1: a line starts with p or g"),
        ({"policy.matchMode": "fuzzy"}, "policy.matchMode: expected glob or regex"),
        ({"scopes": "groups: yes"}, "scopes: expected a YAML list"),
    ],
)
def test_an_invalid_policy_names_its_key_and_line(data: dict[str, str], message: str) -> None:
    with pytest.raises(rbac.RbacPolicyError, match=message):
        rbac.RbacConfig.from_configmap(data)


def test_policy_files_come_after_policy_csv_in_key_order() -> None:
    data = {"policy.z.csv": "", "policy.csv": "", "policy.a.csv": ""}
    config = rbac.RbacConfig.from_configmap(data)
    assert [key for key, _ in config.policies] == ["policy.csv", "policy.a.csv", "policy.z.csv"]
    assert config.scopes == ("groups",)
    assert config.match_mode == "glob"


def test_scopes_are_read_as_a_yaml_list() -> None:
    config = rbac.RbacConfig.from_configmap({"scopes": "[groups, email]"})
    assert config.scopes == ("groups", "email")


@pytest.mark.parametrize(
    ("resource", "obj", "project"),
    [
        ("applications", "p/a", "p"),
        ("applications", "p/ns/a", "p"),
        ("projects", "p", "p"),
        ("clusters", "https://k", "https:"),
        ("accounts", "admin", ""),
        ("applications", "loose", ""),
    ],
)
def test_the_project_of_a_request_is_its_objects_first_segment(
    resource: str, obj: str, project: str
) -> None:
    assert rbac.project_of(resource, obj) == project


def test_can_i_knows_resources_and_actions() -> None:
    assert rbac.known_request("applications", "action/apps/Deployment/restart")
    assert rbac.known_request("accounts", "update")
    assert not rbac.known_request("secrets", "get")
    assert not rbac.known_request("applications", "explode")


def test_a_project_role_policy_for_another_subject_is_refused() -> None:
    bad: dict[str, Any] = {
        "metadata": {"name": "p"},
        "spec": {"roles": [{"name": "r", "policies": ["p, alice, applications, get, p/*, allow"]}]},
    }
    with pytest.raises(rbac.RbacPolicyError, match="AppProject p role r policies line 1"):
        rbac.project_lines(parse_project(bad))


def _policy(csv_text: str, mode: str = "glob") -> rbac.RbacConfig:
    return rbac.RbacConfig.from_configmap({"policy.csv": csv_text, "policy.matchMode": mode})


@pytest.mark.parametrize(
    ("csv_text", "mode", "blind"),
    [
        ("", "glob", True),
        ("p, alice, applications, get, team-*/*, allow", "glob", True),
        ("p, alice, *, get, */*, allow\np, bob, applications, *, *, deny", "glob", True),
        ("p, alice, clusters, get, https://one.example, allow", "glob", True),
        ("p, alice, applications, get, team-a/app-1, allow", "glob", False),
        ("p, alice, applications, get, team-a/app-*, deny", "glob", False),
        ('p, alice, app*, get, "team-a/{x,y}/*", allow', "glob", False),
        ("p, alice, applications, get, team-a/.*, allow", "regex", False),
    ],
)
def test_rbac_judges_a_list_by_project_only_when_no_line_can_see_an_app_name(
    csv_text: str, mode: str, blind: bool
) -> None:
    assert rbac.judges_by_project(_policy(csv_text, mode), "applications", None) is blind


def test_a_project_role_naming_one_app_makes_only_its_own_project_judged_app_by_app() -> None:
    config = _policy("p, alice, applications, get, */*, allow")
    assert rbac.judges_by_project(config, "applications", BETA) is False  # its deny names an app
    assert rbac.judges_by_project(config, "applications", None) is True


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.text(alphabet="ab*?/{}[]\\", max_size=8),
    head=st.text(alphabet="ab/", max_size=5),
    names=st.tuples(*[st.text(alphabet="ab", min_size=1, max_size=4)] * 2),
)
def test_when_rbac_judges_by_project_two_apps_differing_only_in_name_get_one_verdict(
    pattern: str, head: str, names: tuple[str, str]
) -> None:
    lines = rbac.Lines(rules=(("alice", "applications", "get", pattern, "allow"),))
    policy = rbac.Enforcer(lines, "glob")
    if policy.name_blind("applications"):
        first, second = (f"{head}/{name}" for name in names)
        assert policy.judge("alice", "applications", "get", first) == policy.judge(
            "alice", "applications", "get", second
        )
