"""Argo CD's pattern languages: gobwas globs, brace alternatives, Go's filepath.Match."""

from __future__ import annotations

import pytest

from tether.core import globs

GLOBS = [
    # (pattern, value, separators, matches, why)
    ("*", "a/b/c", "/", True, "a lone star matches anything, separators or not"),
    ("https://git.example.com/org/*", "https://git.example.com/org/app", "/", True, "one segment"),
    ("https://git.example.com/org/*", "https://git.example.com/org/a/b", "/", False, "not two"),
    ("https://git.example.com/org/**", "https://git.example.com/org/a/b", "/", True, "** crosses"),
    ("team-?", "team-a", "", True, "? is one character"),
    ("team-?", "team-ab", "", False, "exactly one"),
    ("{dev,prod}-*", "prod-eu", "", True, "brace alternatives"),
    ("{dev,prod}-*", "qa-eu", "", False, "none of the alternatives"),
    ("[!a]pp", "bpp", "", True, "negated class"),
    ("[!a]pp", "app", "", False, "negated class excludes"),
    ("ns-[0-9]", "ns-7", "", True, "ranges"),
    ("a.b", "axb", "", False, "dots are literal"),
    ("[a", "[a", "", False, "an invalid pattern matches nothing"),
]


@pytest.mark.parametrize(("pattern", "value", "separators", "matches", "why"), GLOBS)
def test_glob_patterns_follow_argo_cd(
    pattern: str, value: str, separators: str, matches: bool, why: str
) -> None:
    assert globs.match(pattern, value, separators=separators) is matches, why


def test_negation_inverts_a_glob_only_when_allowed() -> None:
    assert globs.match("!prod", "dev", allow_negation=True)
    assert not globs.match("!prod", "prod", allow_negation=True)
    assert not globs.match("!prod", "dev")


FILEPATHS = [
    ("*", "ClusterRole", True),
    ("Cluster*", "ClusterRoleBinding", True),
    ("*.k8s.io", "rbac.authorization.k8s.io", True),
    ("[^C]*", "ClusterRole", False),
    ("Rol?", "Role", True),
    ("", "", True),
    ("", "apps", False),
    ("[", "[", False),
]


@pytest.mark.parametrize(("pattern", "value", "matches"), FILEPATHS)
def test_kind_patterns_use_go_filepath_match(pattern: str, value: str, matches: bool) -> None:
    assert globs.filepath_match(pattern, value) is matches


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "sub/a.yaml", True),  # `*` crosses `/`, as in Argo CD
        ("{*.yml,*.yaml}", "a.yml", True),
        ("{config.json,env-usw2/*}", "env-usw2/x.yaml", True),
        ("{config.json,env-usw2/*}", "env-use1/x.yaml", False),
        ("{a,{b,c}}.yaml", "c.yaml", True),
        ("*.json", "a.yaml", False),
    ],
)
def test_path_globs_cross_slashes_and_take_nested_braces(pattern, path, matches):
    assert globs.match(pattern, path) is matches


def test_an_alternative_left_open_closes_at_the_end_as_in_gobwas():
    assert globs.match("{apps,batch/*", "batch/Job")
    assert not globs.match("{apps,batch/*", "policy/X")


@pytest.mark.parametrize("separators", ["", "/"])
def test_a_pattern_built_to_backtrack_answers_at_once(separators: str) -> None:
    # Patterns are tenant input; Python's re took 8 to 62 s on these, blocking every app. The
    # unit tests' 2 s timeout fails this test if matching ever backtracks again.
    name = "a" * 60
    assert not globs.match("*a" * 8 + "b", name, separators=separators)
    assert not globs.match("*a*a*a*a*a*a*a*ab", name, separators=separators)
    assert not globs.match("{*a,*a*a}" * 6 + "b", name, separators=separators)
    assert not globs.match("{a,aa}" * 40 + "b", name, separators=separators)
    assert not globs.filepath_match("*a" * 12 + "b", name)
    assert globs.match("*a" * 8, name, separators=separators)
