from __future__ import annotations

import pytest
import semver as pysemver
from hypothesis import given, strategies as st

from tether.core.sources import semver
from tether.model.errors import InvalidInputError

TAGS = [
    "v1.0.0",
    "1.2.0",
    "1.2.5",
    "1.3.0-rc.1",
    "1.3.0",
    "2.0.0",
    "2.1.0-beta",
    "v2.0.1",
    "not-a-version",
    "0.2.3",
    "0.2.9",
    "0.3.0",
]

numbers = st.integers(min_value=0, max_value=12)
prereleases = st.one_of(st.none(), st.sampled_from(["0", "alpha", "rc.1", "beta.2"]))
releases = st.builds(pysemver.Version, numbers, numbers, numbers)
versions = st.builds(pysemver.Version, numbers, numbers, numbers, prereleases)


def allows(constraint: str, version: pysemver.Version) -> bool:
    return semver.parse_constraint(constraint).allows(version)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("1.2.*", "1.2.5"),
        ("1.2.x", "1.2.5"),
        ("v1.2.X", "1.2.5"),
        (">=1.0.0 <2.0.0", "1.3.0"),
        (">=1.0.0, <1.3", "1.2.5"),
        ("1.2.x || 2.x", "v2.0.1"),
        ("~1.2", "1.2.5"),
        ("~>1", "1.3.0"),
        ("^1.2", "1.3.0"),
        ("^0.2.3", "0.2.9"),
        ("*", "v2.0.1"),
        ("*-0", "2.1.0-beta"),
        (">=0.0.0-0", "2.1.0-beta"),
        ("1.2 - 1.4.5", "1.3.0"),
        ("=1.2", "1.2.5"),
        ("!=1.2.x", "v2.0.1"),
        ("<1.2", "v1.0.0"),
        (">= 3", None),
    ],
)
def test_best_match_picks_the_highest_tag_the_constraint_allows(constraint, expected):
    assert semver.best_match(constraint, TAGS) == expected


def test_pre_releases_are_left_out_unless_the_constraint_names_one():
    assert not allows(">=1.0.0", pysemver.Version(1, 3, 0, "rc.1"))
    assert allows(">=1.0.0-0", pysemver.Version(1, 3, 0, "rc.1"))
    assert semver.best_match("1.3.x", TAGS) == "1.3.0"
    assert semver.best_match("<1.3.0", ["1.3.0-rc.1", "1.2.0"]) == "1.2.0"


def test_tilde_zero_accepts_every_release_as_masterminds_does():
    assert allows("~0.0.0", pysemver.Version(3, 1, 4))
    assert not allows("~0", pysemver.Version(1, 0, 0))
    assert allows("~0", pysemver.Version(0, 9, 0))


def test_equal_versions_spelled_differently_pick_the_smallest_name_whatever_the_order():
    assert semver.best_match("1.x", ["v1.0.0", "1.0.0"]) == "1.0.0"
    assert semver.best_match("1.x", ["1.0.0", "v1.0.0"]) == "1.0.0"


@pytest.mark.parametrize(
    "text", ["", " ", "main", ">=1.0 ||", "1.2.3.4", ">>1", "1.2 -", "latest", "=~1", "a" * 2000]
)
def test_text_that_is_not_a_constraint_is_refused_with_a_clear_error(text):
    with pytest.raises(InvalidInputError, match="constraint"):
        semver.parse_constraint(text)


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        ("1.2.3", False),
        ("v1.2", False),
        ("1.2.3-rc.1", False),
        ("HEAD", False),
        ("main", False),
        ("refs/pull/7/head", False),
        ("abc123f", False),
        ("", False),
        ("1.2.*", True),
        (">=1", True),
        ("^1.2", True),
        ("1.0 - 2.0", True),
        ("*-0", True),
    ],
)
def test_a_revision_is_a_constraint_only_when_it_is_not_an_exact_version(revision, expected):
    assert semver.is_constraint(revision) is expected


def test_loose_tags_parse_like_masterminds_with_a_leading_v_and_missing_parts():
    assert semver.parse_version("v1.2") == pysemver.Version(1, 2, 0)
    assert semver.parse_version("3") == pysemver.Version(3, 0, 0)
    assert semver.parse_version("1.2.3-rc.1+build.5") == pysemver.Version(
        1, 2, 3, "rc.1", "build.5"
    )
    assert semver.parse_version("release-1") is None


@given(releases, numbers, numbers)
def test_tilde_with_major_and_minor_is_the_minor_range(v, major, minor):
    expected = pysemver.Version(major, minor, 0) <= v < pysemver.Version(major, minor + 1, 0)
    assert allows(f"~{major}.{minor}", v) is expected
    assert allows(f"{major}.{minor}.x", v) is expected
    assert allows(f"{major}.{minor}", v) is expected
    assert allows(f">={major}.{minor}.0 <{major}.{minor + 1}.0", v) is expected


@given(releases, numbers, numbers, numbers)
def test_caret_keeps_the_leftmost_non_zero_part(v, major, minor, patch):
    low = pysemver.Version(major, minor, patch)
    if major > 0:
        high = pysemver.Version(major + 1, 0, 0)
    elif minor > 0:
        high = pysemver.Version(0, minor + 1, 0)
    else:
        high = pysemver.Version(0, 0, patch + 1)
    assert allows(f"^{major}.{minor}.{patch}", v) is (low <= v < high)


@given(releases, releases, releases)
def test_a_hyphen_range_is_inclusive_at_both_ends(v, a, b):
    assert allows(f"{a} - {b}", v) is (a <= v <= b)


@given(versions, releases, releases)
def test_or_and_comma_combine_terms_as_boolean_or_and_and(v, a, b):
    left, right = allows(f">={a}", v), allows(f"<{b}", v)
    assert allows(f">={a} || <{b}", v) is (left or right)
    assert allows(f">={a}, <{b}", v) is (left and right)
    assert allows(f">={a} <{b}", v) is (left and right)


@given(versions, releases)
def test_a_leading_v_changes_nothing(v, c):
    for op in ("", "=", ">", "<", ">=", "<=", "~", "^", "!="):
        assert allows(f"{op}v{c}", v) is allows(f"{op}{c}", v)


@given(st.builds(pysemver.Version, numbers, numbers, numbers, st.just("rc.1")), releases)
def test_no_release_only_constraint_admits_a_pre_release(v, c):
    for op in ("", ">", "<", ">=", "<=", "~", "^", "!="):
        assert not allows(f"{op}{c}", v)
    assert not allows("*", v)
    assert allows("*-0", v)


@given(st.lists(versions, max_size=8), releases)
def test_best_match_is_the_maximum_of_the_allowed_tags(vs, floor):
    tags = [str(v) for v in vs]
    allowed = [v for v in vs if allows(f">={floor}", v)]
    got = semver.best_match(f">={floor}", tags)
    if not allowed:
        assert got is None
    else:
        assert got is not None
        assert pysemver.Version.parse(got) == max(allowed)


@given(versions)
def test_an_exact_version_string_is_never_treated_as_a_constraint(v):
    assert not semver.is_constraint(str(v))
    assert not semver.is_constraint(f"v{v}")
