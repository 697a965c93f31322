"""Project roles may only grant rights over their own project's objects."""

from __future__ import annotations

import pytest

from tether.core.auth import projectroles


def test_a_policy_over_the_projects_own_apps_is_accepted():
    lines = [
        "p, proj:team:ci, applications, sync, team/*, allow",
        "p, proj:team:ci, applications, get, team/web, deny",
        'p, proj:team:ci, repositories, get, "team/https://git.example/x", allow',
    ]
    assert projectroles.policy_problems("team", "ci", lines) == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("p, proj:team:ci, applications, sync, other/*, allow", "must start with 'team/'"),
        ("p, proj:team:ci, applications, sync, *, allow", "must start with 'team/'"),
        ("p, alice, applications, sync, team/*, allow", "subject must be"),
        ("p, proj:team:ci, projects, update, team/x, allow", "may not appear"),
        ("p, proj:team:ci, accounts, update, team/x, allow", "may not appear"),
        ("p, proj:team:ci, applications, sync, team/*, maybe", "allow or deny"),
        ("g, proj:team:ci, role:admin", "expected"),
        ("p, proj:team:ci, applications, sync, team/*", "expected"),
    ],
)
def test_a_policy_reaching_beyond_the_project_is_refused(line: str, problem: str):
    problems = projectroles.policy_problems("team", "ci", [line])
    assert problems
    assert problem in problems[0]
