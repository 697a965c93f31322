"""Which commit a revision names among a repository's refs, as ``git ls-remote`` lists them."""

from __future__ import annotations

from tether.adapters.git import urls
from tether.core.sources import semver


def parse(stdout: bytes) -> dict[str, str]:
    """``git ls-remote`` output as ref name → object name; malformed lines are skipped."""
    refs: dict[str, str] = {}
    for line in stdout.decode(errors="replace").splitlines():
        sha, _, name = line.partition("\t")
        if urls.is_full_sha(sha) and name:
            refs[name] = sha
    return refs


def peeled(refs: dict[str, str], name: str) -> str | None:
    """The commit a ref names: for an annotated tag, the commit behind the tag object."""
    # An annotated tag points at a tag object; ``^{}`` is the commit it points at.
    return refs.get(f"{name}^{{}}") or refs.get(name)


def pick(refs: dict[str, str], rev: str) -> tuple[str | None, str | None]:
    """The commit and ref a revision names; ``(None, None)`` when nothing matches.

    Tried in order: a semver constraint (the highest matching tag), ``HEAD``, a full ref name,
    a branch, then a tag (Argo CD's order).
    """
    if semver.is_constraint(rev):
        tags = [n.removeprefix("refs/tags/") for n in refs if n.startswith("refs/tags/")]
        best = semver.best_match(rev, [t for t in tags if not t.endswith("^{}")])
        if best is not None:
            return peeled(refs, f"refs/tags/{best}"), f"refs/tags/{best}"
    if rev == "HEAD":
        return refs.get("HEAD"), None
    if rev.startswith("refs/"):
        if rev in refs and urls.is_fetchable_ref(rev):
            return peeled(refs, rev), rev
        return None, None
    # Branches before tags, as Argo CD (its ls-remote listing puts refs/heads first).
    for name in (f"refs/heads/{rev}", f"refs/tags/{rev}"):
        if name in refs:
            return peeled(refs, name), name
    return None, None
