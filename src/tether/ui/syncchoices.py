"""What the sync dialog offers: the sync options tether honours, in words, with their effect.

Each entry's ``option`` is what goes into the request's ``syncOptions.items``; a unit test checks
every one parses as ``tether.core.sync.options`` reads it, so the dialog offers nothing ignored.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Choice:
    """One checkbox: the option it adds, its label, and what it does."""

    option: str
    label: str
    hint: str


OUT_OF_SYNC_ONLY = Choice(
    "ApplyOutOfSyncOnly=true",
    "Apply out-of-sync only",
    "resources already in sync are not applied again",
)

OPTIONS: tuple[Choice, ...] = (
    Choice(
        "Validate=false",
        "Skip schema validation",
        "fields the cluster's schema does not know are dropped instead of failing the sync",
    ),
    Choice(
        "CreateNamespace=true",
        "Create the destination namespace",
        "creates the namespace when it does not exist",
    ),
    Choice("PruneLast=true", "Prune last", "prunes after every wave is applied and healthy"),
    Choice(
        "Replace=true",
        "Replace",
        "replaces objects instead of applying them: fields other managers set are lost",
    ),
    Choice(
        "ServerSideApply=false",
        "Client-side apply",
        "tether applies server-side unless told otherwise",
    ),
    Choice(
        "RespectIgnoreDifferences=true",
        "Respect ignored differences",
        "keeps the live values of fields the app's ignoreDifferences names",
    ),
    Choice(
        "SkipDryRunOnMissingResource=true",
        "Skip dry run for unknown kinds",
        "kinds whose definition is not installed yet are not dry-run first",
    ),
    Choice(
        "FailOnSharedResource=true",
        "Fail on shared resources",
        "fails when another app already manages one of the resources",
    ),
)
"""Argo CD's sync panel's options, as tether's defaults make them meaningful: tether applies
server-side by default, so the choice offered is client-side apply."""

PRUNE_PROPAGATION: tuple[tuple[str, str], ...] = (
    # (PrunePropagationPolicy value, label); foreground is the default, so it adds no option.
    ("foreground", "Foreground (default): owners wait for their dependents"),
    ("background", "Background: dependents are deleted after their owner"),
    ("orphan", "Orphan: dependents stay"),
)


def set_by_app(spec_options: list[str]) -> frozenset[str]:
    """The offered options the app's own sync policy already sets (always in force)."""
    given = {_normal(o) for o in spec_options}
    return frozenset(c.option for c in (OUT_OF_SYNC_ONLY, *OPTIONS) if _normal(c.option) in given)


def _normal(option: str) -> tuple[str, str]:
    # Names are case-sensitive and values are not, as tether reads them.
    name, _, value = option.strip().partition("=")
    return name.strip(), value.strip().lower()
