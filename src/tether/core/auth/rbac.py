"""RBAC: Argo CD's policy semantics over Casbin, from ``argocd-rbac-cm`` and project roles.

A policy is the built-in lines, ``policy.csv``, every ``policy.<x>.csv`` (sorted by key) and, for
a request about one project, that project's roles. Each subject (the user, the default role,
one group) is judged on its own: it is allowed iff some ``allow`` line matches and no ``deny``
line does, so a deny never reaches beyond the subject it names. ``decide`` walks the subjects in
Argo CD's order. Compiled enforcers are cached per policy text.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import casbin
import re2
import yaml
from casbin.util import log as casbin_log

from tether.core import globs
from tether.core.auth import builtin_policy
from tether.core.auth.identity import Caller
from tether.model.errors import InvalidInputError
from tether.model.project import AppProject

# Casbin logs every model it loads and every request it judges (denials as warnings): that
# would echo each RBAC question into tether's log, so its loggers stay off.
casbin_log.disabled_logging()

CONFIGMAP = "argocd-rbac-cm"

MatchMode = Literal["glob", "regex"]

_MODEL = """
[request_definition]
r = sub, res, act, obj

[policy_definition]
p = sub, res, act, obj, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && tetherMatch(r.res, p.res) && tetherMatch(r.act, p.act) \
&& tetherMatch(r.obj, p.obj)
"""
"""Request ``sub, res, act, obj``; lines with an effect; transitive roles; deny beats allow."""

RESOURCES: dict[str, str] = {
    # resource: its object's shape (what ``can-i`` accepts, and what policies name).
    "applications": "<project>/<app> or <project>/<namespace>/<app>",
    "applicationsets": "<project>/<appset>",
    "clusters": "<server URL> or <project>/<server URL>",
    "repositories": "<URL> or <project>/<URL>",
    "write-repositories": "<URL> or <project>/<URL>",
    "projects": "<project>",
    "accounts": "<account name>",
    "certificates": "<id>, usually *",
    "gpgkeys": "<key id>, usually *",
    "logs": "<project>/<app>",
    "exec": "<project>/<app>",
    "extensions": "<extension name>",
}

ACTIONS: tuple[str, ...] = (
    "get",
    "create",
    "update",
    "delete",
    "sync",
    "override",
    "rollback",
    "invoke",
)
"""Plain actions; ``action/<group>/<kind>/<name>``, ``update/...``, ``delete/...`` extend them."""

_SUB_ACTIONS = ("action/", "update/", "delete/")

PROJECT_SCOPED: frozenset[str] = frozenset(
    # Resources whose object starts with ``<project>/``, so the project's roles take part.
    {"applications", "applicationsets", "logs", "exec", "clusters", "repositories"}
)

PROJECT_ROLE_RESOURCES: frozenset[str] = frozenset(
    # What a project role may grant: things inside the project, never global ones.
    {"applications", "applicationsets", "logs", "exec", "clusters", "repositories"}
)


class RbacPolicyError(InvalidInputError):
    """A policy line, ``scopes`` or ``policy.matchMode`` that cannot be used; names key and line."""


def known_request(resource: str, action: str) -> bool:
    """Whether ``resource`` and ``action`` are ones a policy can speak of (``can-i`` checks)."""
    if resource not in RESOURCES:
        return False
    return action in ACTIONS or action.startswith(_SUB_ACTIONS)


@dataclasses.dataclass(frozen=True)
class RbacConfig:
    """``argocd-rbac-cm``, parsed: the policy texts by key, the default role, scopes, match mode."""

    policies: tuple[tuple[str, str], ...] = ()
    """``(ConfigMap key, CSV text)``: ``policy.csv`` first, then ``policy.<x>.csv`` by key."""
    default_role: str = ""
    scopes: tuple[str, ...] = ("groups",)
    match_mode: MatchMode = "glob"

    @classmethod
    def from_configmap(cls, data: Mapping[str, str] | None) -> RbacConfig:
        """Read the ConfigMap's ``data``; raises :class:`RbacPolicyError` naming the key."""
        data = data or {}
        keys = sorted(k for k in data if k.startswith("policy.") and k.endswith(".csv"))
        keys.sort(key=lambda k: k != "policy.csv")  # stable: policy.csv, then the rest by key
        mode = data.get("policy.matchMode", "") or "glob"
        if mode not in ("glob", "regex"):
            raise RbacPolicyError(
                f"{CONFIGMAP} policy.matchMode: expected glob or regex, got {mode!r}"
            )
        config = cls(
            policies=tuple((k, data[k]) for k in keys),
            default_role=data.get("policy.default", "").strip(),
            scopes=_scopes(data.get("scopes")),
            match_mode="regex" if mode == "regex" else "glob",
        )
        for key, text in config.policies:
            parse_lines(text, f"{CONFIGMAP} {key}")
        return config


def _scopes(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ("groups",)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RbacPolicyError(f"{CONFIGMAP} scopes: expected a YAML list of claim names")
    return tuple(value)


Line = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Lines:
    """Parsed policy: ``p`` rules (sub, res, act, obj, eft) and ``g`` pairs (member, role)."""

    rules: tuple[Line, ...] = ()
    groupings: tuple[tuple[str, str], ...] = ()

    def __add__(self, other: Lines) -> Lines:
        return Lines(self.rules + other.rules, self.groupings + other.groupings)


def parse_lines(text: str, where: str) -> Lines:
    """Parse CSV policy lines; ``where`` names the source in errors (``argocd-rbac-cm policy.csv``).

    ``#`` starts a comment line, fields are trimmed, quoted fields may hold commas. ``p`` needs
    six fields ending in ``allow`` or ``deny``, ``g`` three.
    """
    rules: list[Line] = []
    groupings: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            fields = [f.strip() for f in next(csv.reader([stripped], skipinitialspace=True))]
        except csv.Error as err:
            raise RbacPolicyError(f"{where} line {number}: {err}") from None
        kind = fields[0]
        if kind == "p":
            if len(fields) != 6:
                raise RbacPolicyError(
                    f"{where} line {number}: a p line has 6 fields "
                    f"(p, subject, resource, action, object, allow|deny), got {len(fields)}"
                )
            if fields[5] not in ("allow", "deny"):
                raise RbacPolicyError(
                    f"{where} line {number}: the effect must be allow or deny, got {fields[5]!r}"
                )
            rules.append(tuple(fields[1:]))
        elif kind == "g":
            if len(fields) != 3:
                raise RbacPolicyError(
                    f"{where} line {number}: a g line has 3 fields (g, member, role), "
                    f"got {len(fields)}"
                )
            groupings.append((fields[1], fields[2]))
        else:
            raise RbacPolicyError(f"{where} line {number}: a line starts with p or g, not {kind!r}")
    return Lines(tuple(rules), tuple(groupings))


def role_subject(project: str, role: str) -> str:
    """The RBAC subject of a project role (and of its tokens)."""
    return f"proj:{project}:{role}"


def parse_role_subject(subject: str) -> tuple[str, str] | None:
    """``(project, role)`` of a ``proj:<project>:<role>`` subject, else ``None``."""
    kind, _, rest = subject.partition(":")
    project, _, role = rest.partition(":")
    if kind != "proj" or not project or not role:
        return None
    return project, role


def project_lines(project: AppProject) -> Lines:
    """A project's roles as policy: each role may get its project, its own rules, its groups.

    A project policy is tenant input: a rule naming another subject, a global resource or an
    object outside the project is refused (:class:`RbacPolicyError`), and the caller then uses
    the global policy alone, as Argo CD does with a project policy it cannot load.
    """
    name = project.name
    rules: list[Line] = []
    groupings: list[tuple[str, str]] = []
    for role in project.spec.roles or []:
        subject = role_subject(name, role.name)
        where = f"AppProject {name} role {role.name} policies"
        rules.append((subject, "projects", "get", name, "allow"))
        parsed = parse_lines("\n".join(role.policies or []), where)
        if parsed.groupings:
            raise RbacPolicyError(f"{where}: a role's policies hold only p lines")
        for number, rule in enumerate(parsed.rules, start=1):
            sub, res, _act, obj, _eft = rule
            if sub != subject:
                raise RbacPolicyError(f"{where} line {number}: the subject must be {subject}")
            if res not in PROJECT_ROLE_RESOURCES:
                raise RbacPolicyError(f"{where} line {number}: a project role cannot grant {res!r}")
            if not obj.startswith(f"{name}/"):
                raise RbacPolicyError(f"{where} line {number}: the object must start with {name}/")
            rules.append(rule)
        groupings.extend((group, subject) for group in role.groups or [])
    return Lines(tuple(rules), tuple(groupings))


def project_of(resource: str, obj: str) -> str:
    """The project a request is about, whose roles join the policy; ``""`` when none."""
    if resource == "projects":
        return obj
    if resource in PROJECT_SCOPED and "/" in obj:
        return obj.split("/", 1)[0]
    return ""


SUBJECT_CACHE = 1024
"""Subjects whose slice of a policy is kept compiled (per policy)."""


class Enforcer:
    """One compiled policy: Casbin with Argo CD's model and the chosen match function.

    Casbin tries every ``p`` line on each request; a subject's request is judged by an enforcer
    holding only the lines of the roles that subject has (same verdicts, a fraction of the work),
    made on first use and kept for the next ``SUBJECT_CACHE`` subjects.
    """

    def __init__(self, lines: Lines, mode: MatchMode) -> None:
        self._lines = lines
        self._mode = mode
        self._match = _regex_match if mode == "regex" else _glob_match
        self._name_blind: dict[str, bool] = {}
        self._all = self._casbin(lines.rules)
        self._members = frozenset(member for member, _role in lines.groupings)
        self._by_subject: dict[str, casbin.Enforcer] = {}

    def _casbin(self, rules: Sequence[Line]) -> casbin.Enforcer:
        model = casbin.model.Model()
        model.load_model_from_text(_MODEL)
        enforcer = casbin.Enforcer(model)
        enforcer.add_function("tetherMatch", self._match)
        if rules:
            enforcer.add_policies([list(rule) for rule in rules])
        if self._lines.groupings:
            enforcer.add_grouping_policies([list(pair) for pair in self._lines.groupings])
        return enforcer

    def _for(self, subject: str) -> casbin.Enforcer:
        found = self._by_subject.pop(subject, None)
        if found is None:
            roles = {subject, *self._all.get_implicit_roles_for_user(subject)}
            found = self._casbin([rule for rule in self._lines.rules if rule[0] in roles])
            if len(self._by_subject) >= SUBJECT_CACHE:
                del self._by_subject[next(iter(self._by_subject))]  # least recently used
        self._by_subject[subject] = found
        return found

    def allows(self, subject: str, resource: str, action: str, obj: str) -> bool:
        """Whether the policy allows this one subject (its roles included)."""
        if not subject:
            return False
        return _verdict(self, subject, resource, action, obj)

    def judge(self, subject: str, resource: str, action: str, obj: str) -> bool:
        """Casbin's verdict, uncached."""
        return bool(self._for(subject).enforce(subject, resource, action, obj))

    def is_member(self, name: str) -> bool:
        """Whether ``name`` is the first field of some ``g`` line (only those groups count)."""
        return name in self._members

    def name_blind(self, resource: str) -> bool:
        """Whether no line that can match ``resource`` can see the last segment of its object.

        True in glob mode when every such line's object is ``*`` or ends in ``/*`` (see
        ``_swallows_last_segment``); regex patterns are never analysed, so never blind.
        """
        found = self._name_blind.get(resource)
        if found is None:
            found = self._mode == "glob" and all(
                _swallows_last_segment(rule[3])
                for rule in self._lines.rules
                if _glob_match(resource, rule[1])
            )
            self._name_blind[resource] = found
        return found


@functools.lru_cache(maxsize=65_536)
def _verdict(policy: Enforcer, subject: str, resource: str, action: str, obj: str) -> bool:
    # Listing 10,000 apps asks the same questions on every page: remembered per policy (an
    # edited policy is a new Enforcer, so nothing stale is ever answered).
    return policy.judge(subject, resource, action, obj)


def _swallows_last_segment(pattern: str) -> bool:
    """Whether a glob matches ``a/b`` and ``a/c`` alike for every last segment without ``/``.

    ``*``, or ``<head>/*`` with no braces, classes or escapes in ``<head>``: the final literal
    ``/`` must meet a ``/`` of the object and the final ``*`` takes everything after it, so the
    verdict depends only on the object up to one of its slashes, never on its last segment.
    """
    if pattern == "*":
        return True
    head, slash, tail = pattern.rpartition("/")
    return bool(slash) and tail == "*" and not any(c in head for c in "{}[]\\")


def _glob_match(value: str, pattern: str) -> bool:
    # gobwas glob without separators: ``*`` spans ``/``.
    return globs.match(pattern, value)


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> Any:
    try:
        return re2.compile(pattern)
    except re2.error:
        return None  # a bad pattern matches nothing


def _regex_match(value: str, pattern: str) -> bool:
    # Unanchored search, as Go's regexp.MatchString; RE2 keeps tenant patterns linear.
    compiled = _regex(pattern)
    return compiled is not None and compiled.search(value) is not None


@functools.lru_cache(maxsize=64)
def _compiled(config: RbacConfig, extra: Lines) -> Enforcer:
    lines = parse_lines(builtin_policy.BUILTIN_POLICY_CSV, "built-in policy")
    for key, text in config.policies:
        lines = lines + parse_lines(text, f"{CONFIGMAP} {key}")
    return Enforcer(lines + extra, config.match_mode)


def enforcer(config: RbacConfig, project: AppProject | None = None) -> Enforcer:
    """The compiled policy for a request; a project whose roles are invalid adds nothing."""
    if project is None:
        return _compiled(config, Lines())
    roles = tuple(
        (r.name, tuple(r.policies or ()), tuple(r.groups or ())) for r in project.spec.roles or []
    )
    return _compiled(config, _project_extra(project.name, roles))


@functools.lru_cache(maxsize=256)
def _project_extra(
    name: str, roles: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
) -> Lines:
    project = AppProject.model_validate(
        {
            "metadata": {"name": name},
            "spec": {
                "roles": [
                    {"name": role, "policies": list(policies), "groups": list(groups)}
                    for role, policies, groups in roles
                ]
            },
        }
    )
    try:
        return project_lines(project)
    except RbacPolicyError:
        return Lines()


def judges_by_project(config: RbacConfig, resource: str, project: AppProject | None) -> bool:
    """Whether ``decide`` answers alike for ``resource`` objects differing only in the app.

    Objects are ``<project>/[<namespace>/]<app>``; any caller, any action. A list may then ask
    once per project and namespace instead of once per app. ``project`` is the AppProject of
    those objects, as :func:`decide` takes it; its roles' lines count too.
    """
    return enforcer(config, project).name_blind(resource)


def decide(
    config: RbacConfig,
    caller: Caller,
    resource: str,
    action: str,
    obj: str,
    project: AppProject | None = None,
) -> bool:
    """Whether ``caller`` may ``action`` on ``resource`` ``obj``, in Argo CD's order.

    ``project`` is the AppProject named by :func:`project_of` (``None`` when there is none).

    1. A project role's token acts only inside its own project.
    2. The default role, if it allows, allows: no deny undoes it.
    3. The caller's own subject.
    4. Each group (value of a ``scopes`` claim) that is a member in some ``g`` line; an
       ungrouped name is inert, so a bare ``p`` line for a group grants nothing.
    """
    if project is not None and project.name != project_of(resource, obj):
        project = None
    policy = enforcer(config, project)
    if caller.kind == "project":
        role = parse_role_subject(caller.subject)
        if role is None or role[0] != project_of(resource, obj):
            return False
    if config.default_role and policy.allows(config.default_role, resource, action, obj):
        return True
    if caller.kind == "anonymous":
        return False
    if policy.allows(caller.subject, resource, action, obj):
        return True
    return any(
        policy.is_member(group) and policy.allows(group, resource, action, obj)
        for group in caller.groups
    )
