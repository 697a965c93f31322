"""What a project role's policies may say: only about the project's own objects (Argo CD's rule).

A project's administrators write its roles; were a role's policy free to name another project's
apps, or another subject, editing one project would grant rights over everything.
"""

from __future__ import annotations

import csv

PROJECT_ROLE_RESOURCES: dict[str, str] = {
    # resource: why a project role may name it
    "applications": "the project's apps",
    "applicationsets": "ApplicationSets creating apps in the project",
    "logs": "logs of the project's apps",
    "exec": "terminals into the project's apps' Pods",
    "clusters": "clusters scoped to the project",
    "repositories": "repositories scoped to the project",
}
"""The only resources a project role's ``p`` lines may name (objects ``<project>/...``)."""

EFFECTS = ("allow", "deny")


def policy_problems(project: str, role: str, lines: list[str]) -> list[str]:
    """Why each policy line of role ``role`` of ``project`` is refused; ``[]`` when all are fine."""
    problems: list[str] = []
    subject = f"proj:{project}:{role}"
    for number, line in enumerate(lines, 1):
        where = f"role {role!r} policy {number}"
        fields = next(csv.reader([line], skipinitialspace=True), [])
        fields = [f.strip() for f in fields]
        if len(fields) != 6 or fields[0] != "p":
            problems.append(
                f"{where}: expected 'p, {subject}, <resource>, <action>, <object>, <allow|deny>'"
            )
            continue
        _, sub, resource, action, obj, effect = fields
        if sub != subject:
            problems.append(f"{where}: the subject must be {subject!r}")
        if resource not in PROJECT_ROLE_RESOURCES:
            problems.append(f"{where}: resource {resource[:40]!r} may not appear in a project role")
        if not action:
            problems.append(f"{where}: the action is empty")
        if not obj.startswith(f"{project}/"):
            problems.append(f"{where}: the object must start with '{project}/'")
        if effect not in EFFECTS:
            problems.append(f"{where}: the effect must be allow or deny")
    return problems
