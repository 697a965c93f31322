"""The RBAC policy every server starts with: the read-only and admin roles, and who is admin.

The facts are Argo CD's (its built-in roles grant the same tuples); the layout is ours: one
block per role, each with the reason it exists.
"""

from __future__ import annotations

READONLY_ROLE = "role:readonly"
ADMIN_ROLE = "role:admin"

_READONLY_GETS: tuple[tuple[str, str], ...] = (
    # (resource, object): what a viewer may read; nothing here changes state.
    ("applications", "*/*"),
    ("applicationsets", "*/*"),
    ("certificates", "*"),
    ("clusters", "*"),
    ("repositories", "*"),
    ("write-repositories", "*"),
    ("projects", "*"),
    ("accounts", "*"),
    ("gpgkeys", "*"),
    ("logs", "*/*"),
)

_ADMIN_GRANTS: tuple[tuple[str, str, str], ...] = (
    # (resource, action, object): what an administrator may change, on top of reading.
    *(
        ("applications", action, "*/*")
        # update/* and delete/* reach the managed resources of an app (fine-grained RBAC).
        for action in (
            "create",
            "update",
            "update/*",
            "delete",
            "delete/*",
            "sync",
            "rollback",
            "override",
            "action/*",
        )
    ),
    *(("applicationsets", action, "*/*") for action in ("get", "create", "update", "delete")),
    *(
        (resource, action, "*")
        for resource in (
            "certificates",
            "clusters",
            "repositories",
            "write-repositories",
            "projects",
        )
        for action in ("create", "update", "delete")
    ),
    ("accounts", "update", "*"),  # set other accounts' passwords and tokens
    ("gpgkeys", "create", "*"),
    ("gpgkeys", "delete", "*"),
    ("exec", "create", "*/*"),  # a web terminal into an app's pods
)

_GROUPINGS: tuple[tuple[str, str], ...] = (
    # An administrator can read everything a viewer can.
    (ADMIN_ROLE, READONLY_ROLE),
    # The local admin account is an administrator. An SSO group literally named ``admin`` is
    # one too: RBAC cannot tell the two apart (a known hazard of this naming).
    ("admin", ADMIN_ROLE),
)


def _lines() -> str:
    out = [f"p, {READONLY_ROLE}, {res}, get, {obj}, allow" for res, obj in _READONLY_GETS]
    out += [f"p, {ADMIN_ROLE}, {res}, {act}, {obj}, allow" for res, act, obj in _ADMIN_GRANTS]
    out += [f"g, {member}, {role}" for member, role in _GROUPINGS]
    return "\n".join(out) + "\n"


BUILTIN_POLICY_CSV = _lines()
"""The built-in policy as CSV lines, parsed like any administrator's ``policy.csv``."""
