"""An ApplicationSet's generators run and its template rendered: parameter sets to Applications.

Every failure here (Git unreachable, a path gone, a bad file, a template error, a deadline)
raises ``GenerationError``: the caller then changes nothing (``core.appsets.plan.error_plan``).
A generator never turns a failure into an empty result.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import yaml

from tether import ports
from tether.core.appsets import combine, fasttemplate, params
from tether.core.appsets.params import Params
from tether.core.sources import jail
from tether.model.errors import TetherError

SUPPORTED = ("list", "clusters", "git", "matrix", "merge")
NOT_SUPPORTED: dict[str, str] = {
    # Argo CD generators tether does not run, and why a set naming one fails instead.
    "scmProvider": "needs each Git host's API and tokens; not supported yet",
    "pullRequest": "needs each Git host's API and tokens; not supported yet",
    "clusterDecisionResource": "reads arbitrary duck-typed resources; not supported",
    "plugin": "calls an HTTP service with user tokens; not supported",
}

MAX_FILE_BYTES = 1 << 20
"""A git generator's file above 1 MiB is refused: parameter files are small."""

MAX_ENTRIES = 100_000
"""Directories and files listed in one checkout before the generator refuses the repository."""

GENERATION_TIMEOUT_S = 120.0
"""One set's generators and templates; past it the pass fails and changes nothing."""

_REFRESH = contextvars.ContextVar("appset_refresh", default=False)

SecretsReader = Callable[[], Awaitable[Sequence[Mapping[str, Any]]]]


class GenerationError(TetherError):
    """A generator or template failed; ``reason`` is Argo CD's condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Generator:
    """Runs generators and templates for sets (stateless between sets)."""

    def __init__(
        self, git: ports.GitRepos, evaluator: ports.Evaluator, cluster_secrets: SecretsReader
    ) -> None:
        self._git = git
        self._evaluator = evaluator
        self._secrets = cluster_secrets

    async def params(
        self, spec: Mapping[str, Any], *, go: bool, options: Sequence[str], refresh: bool = False
    ) -> list[list[Params]]:
        """The parameter sets of each of the set's generators (errors: ``GenerationError``).

        ``refresh``: Git revisions are resolved afresh, not from the short-lived cache.
        """
        out: list[list[Params]] = []
        _REFRESH.set(refresh)  # this task's own: two sets' passes never see each other's
        try:
            async with asyncio.timeout(GENERATION_TIMEOUT_S):
                for index, generator in enumerate(spec.get("generators") or []):
                    found = await self._one(
                        generator, go, options, depth=0, where=f"generators[{index}]"
                    )
                    out.append(found)
        except TimeoutError:
            raise GenerationError(
                "ApplicationGenerationFromParamsError",
                f"generators did not finish within {GENERATION_TIMEOUT_S:g} s",
            ) from None
        except GenerationError:
            raise
        except TetherError as err:
            raise GenerationError("ApplicationGenerationFromParamsError", str(err)) from None
        except (AttributeError, TypeError, ValueError) as err:
            # A field of the wrong shape (a string where an object goes): the set is wrong.
            raise GenerationError(
                "ApplicationGenerationFromParamsError", f"a generator is malformed: {err}"
            ) from None
        return out

    async def _one(
        self,
        generator: Mapping[str, Any],
        go: bool,
        options: Sequence[str],
        *,
        depth: int,
        where: str,
    ) -> list[Params]:
        if not isinstance(generator, Mapping):
            raise GenerationError("ApplicationGenerationFromParamsError", f"{where}: not an object")
        kinds = [k for k in generator if k not in ("selector", "template")]
        unsupported = [k for k in kinds if k in NOT_SUPPORTED]
        if unsupported:
            raise GenerationError(
                "ApplicationGenerationFromParamsError",
                f"{where}: generator {unsupported[0]} {NOT_SUPPORTED[unsupported[0]]}",
            )
        known = [k for k in kinds if k in SUPPORTED]
        if len(known) != 1:
            raise GenerationError(
                "ApplicationGenerationFromParamsError",
                f"{where}: expected exactly one of {', '.join(SUPPORTED)}, got {kinds}",
            )
        kind = known[0]
        body = generator[kind] or {}
        if kind == "list":
            found = params.list_params(body, go=go)
        elif kind == "clusters":
            found = params.clusters_params(body, await self._secrets(), go=go)
            found = [await self._values(p, go, options) for p in found]
        elif kind == "git":
            found = await self._git_params(body, go, where)
        else:
            found = await self._combined(kind, body, go, options, depth, where)
        return params.select(found, generator.get("selector"))

    async def _values(self, found: Params, go: bool, options: Sequence[str]) -> Params:
        """A clusters generator's ``values`` are templated with the cluster's own params."""
        key = "values"
        if go:
            values = found.get(key) or {}
            if values:
                found[key] = await self.render(values, found, go=True, options=options)
            return found
        flat = dict(found)
        for name in [n for n in found if n.startswith(f"{key}.")]:
            flat[name] = fasttemplate.render(found[name], found)
        return flat

    async def _combined(
        self,
        kind: str,
        body: Mapping[str, Any],
        go: bool,
        options: Sequence[str],
        depth: int,
        where: str,
    ) -> list[Params]:
        children = list(body.get("generators") or [])
        try:
            combine.check_children(kind, children, depth)
        except TetherError as err:
            raise GenerationError(
                "ApplicationGenerationFromParamsError", f"{where}: {err}"
            ) from None
        if kind == "merge":
            sets = [
                await self._one(c, go, options, depth=depth + 1, where=f"{where}.merge[{i}]")
                for i, c in enumerate(children)
            ]
            return combine.merge(sets, [str(k) for k in body.get("mergeKeys") or []])
        out: list[Params] = []
        firsts = await self._one(
            children[0], go, options, depth=depth + 1, where=f"{where}.matrix[0]"
        )
        for first in firsts:
            # The second child may use the first's parameters in its own fields.
            second_spec = await self.render(children[1], first, go=go, options=options)
            seconds = await self._one(
                second_spec, go, options, depth=depth + 1, where=f"{where}.matrix[1]"
            )
            out.extend(combine.matrix_pair(first, second, go=go) for second in seconds)
        return out

    async def _git_params(self, body: Mapping[str, Any], go: bool, where: str) -> list[Params]:
        repo = str(body.get("repoURL") or "")
        if not repo:
            raise GenerationError(
                "ApplicationGenerationFromParamsError", f"{where}: git.repoURL is required"
            )
        revision = str(body.get("revision") or "HEAD")
        sha = await self._git.resolve(repo, revision, refresh=_REFRESH.get())
        root = await self._git.checkout(repo, sha)
        directories, files = await asyncio.to_thread(_listing, root)
        if body.get("directories"):
            return params.git_directories(body, directories, go=go)
        out: list[Params] = []
        for entry in body.get("files") or []:
            pattern = str((entry or {}).get("path", "")).strip("/")
            if params.literal_missing(pattern, files):
                raise GenerationError(
                    "ApplicationGenerationFromParamsError",
                    f"{where}: file {pattern!r} is not in the repository",
                )
            matched = [f for f in files if params.glob_match(pattern, f)]
            for path in matched:
                text = await asyncio.to_thread(_read, root, path)
                out.extend(params.git_file(path, text, body, go=go))
        if not body.get("files"):
            raise GenerationError(
                "ApplicationGenerationFromParamsError", f"{where}: git needs directories or files"
            )
        return out

    async def render(
        self, value: Any, found: Mapping[str, Any], *, go: bool, options: Sequence[str]
    ) -> Any:
        """``value`` with every string templated with ``found`` (Go or the legacy form)."""
        if not go:
            flat = {k: str(v) for k, v in found.items()}
            return fasttemplate.walk(value, lambda s: fasttemplate.render(s, flat))
        rendered: dict[str, str] = {}
        for text in fasttemplate.strings(value):
            if "{{" in text and text not in rendered:
                try:
                    rendered[text] = await self._evaluator.template(
                        text, found, mode="text", options=options
                    )
                except TetherError as err:
                    raise GenerationError(
                        "RenderTemplateParamsError", f"template {text!r}: {err}"
                    ) from None
        return fasttemplate.replace_strings(value, rendered)

    async def patch_text(
        self, text: str, found: Mapping[str, Any], options: Sequence[str]
    ) -> dict[str, Any]:
        """A ``templatePatch`` rendered with ``found`` and parsed (an object, or an error)."""
        try:
            rendered = await self._evaluator.template(text, found, mode="text", options=options)
            patch = yaml.safe_load(rendered)
        except (TetherError, yaml.YAMLError) as err:
            raise GenerationError("RenderTemplateParamsError", f"templatePatch: {err}") from None
        if patch is None:
            return {}
        if not isinstance(patch, dict):
            raise GenerationError(
                "RenderTemplateParamsError", "templatePatch: must render an object"
            )
        return patch


def _listing(root: str) -> tuple[list[str], list[str]]:
    """Every directory and file of a checkout, relative and ``/``-separated (``.git`` aside)."""
    directories: list[str] = []
    files: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        where = "" if relative == "." else f"{relative}/"
        directories.extend(f"{where}{d}" for d in dirs)
        files.extend(f"{where}{n}" for n in names)
        if len(directories) + len(files) > MAX_ENTRIES:
            raise GenerationError(
                "ApplicationGenerationFromParamsError",
                f"git generator: the repository has more than {MAX_ENTRIES} entries",
            )
    return directories, sorted(files)


def _read(root: str, path: str) -> str:
    """A file of the checkout, kept inside it (a symlink out is refused) and size-bounded."""
    resolved = jail.resolve_in_repo(
        root, path, field="git generator file", realpath=os.path.realpath
    )
    if not jail.is_inside(os.path.realpath(root), resolved):  # pragma: no cover - jail raises
        raise GenerationError(
            "ApplicationGenerationFromParamsError", f"{path}: outside the repository"
        )
    if os.path.getsize(resolved) > MAX_FILE_BYTES:
        raise GenerationError(
            "ApplicationGenerationFromParamsError", f"git generator: {path} is larger than 1 MiB"
        )
    with open(resolved, encoding="utf-8") as handle:
        return handle.read()
