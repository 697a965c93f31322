"""The ``ports.Renderer`` implementation: jail the checkout, pick the tool, render, parse.

Errors leave here as ``InvalidInputError`` (the input is at fault) or ``RenderError`` (a tool
failed), with checkout and scratch paths scrubbed; callers add the Application's name.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tether import ports
from tether.adapters import _disk, _process
from tether.adapters.render import _jail, directory, helm, helmrepos, kustomize, plugin
from tether.core.sources import kubeyaml, renderconfig, rendering
from tether.model.errors import InvalidInputError, RenderError, TetherError

VERSION_COMMANDS: dict[str, tuple[str, ...]] = {
    # How each tool reports the version that goes into every render-cache key.
    "helm": ("version", "--short"),
    "kustomize": ("version",),
}


Plugins = tuple[rendering.PluginSpec, ...] | Callable[[], tuple[rendering.PluginSpec, ...]]
Trust = renderconfig.HostTrust | Callable[[], renderconfig.HostTrust]


T = TypeVar("T")


def _constant(value: T) -> Callable[[], T]:
    return lambda: value


class Renderer:
    """Renders Application sources with the real helm, kustomize, gojsonnet and plugins."""

    def __init__(
        self,
        settings: rendering.RenderSettings,
        tools: ports.ToolLocator,
        limits: kubeyaml.Limits = kubeyaml.DEFAULT_LIMITS,
        helm_credentials: helmrepos.CredentialLookup | None = None,
        *,
        plugins: Plugins = (),
        trust: Trust = renderconfig.NO_TRUST,
    ) -> None:
        """A renderer; ``plugins`` and ``trust`` are values or functions giving the current ones.

        Functions are asked on every render, so a changed plugin file or CA applies at once.
        ``helm_credentials``: a project's credentials for a Helm repository; none: anonymous.
        """
        self._helm_credentials = helm_credentials
        self._settings = settings
        self._tools = tools
        self._limits = limits
        self._plugins = plugins if callable(plugins) else _constant(plugins)
        self._trust = trust if callable(trust) else _constant(trust)
        self._cache_dir = settings.cache_dir or os.path.join(tempfile.gettempdir(), "tether-render")
        self._versions: dict[str, str] | None = None
        self._versions_lock = asyncio.Lock()

    async def tool_versions(self) -> Mapping[str, str]:
        """``helm`` and ``kustomize`` versions, asked once per process."""
        async with self._versions_lock:
            if self._versions is None:
                # Together: the first render of a process waits for both.
                found = await asyncio.gather(
                    *(self._version(t, a) for t, a in VERSION_COMMANDS.items())
                )
                self._versions = dict(zip(VERSION_COMMANDS, found, strict=True))
            versions = dict(self._versions)
        plugins = self._plugins()
        if plugins:
            # A plugin's declaration is its version: a changed command re-renders its apps.
            versions["plugins"] = hashlib.sha256(repr(plugins).encode()).hexdigest()[:16]
        return versions

    async def _version(self, tool: str, args: tuple[str, ...]) -> str:
        try:
            done = await _process.run([self._tools.path_of(tool), *args], timeout=30)
        except (TetherError, _process.ProcessError, OSError):
            return "unavailable"  # a missing tool fails the renders that need it, not every render
        return done.stdout.decode(errors="replace").strip()[:80]

    def prune(self, keep_charts: int, *, min_idle_s: float, now: float) -> list[str]:
        """Delete pulled charts beyond the newest ``keep_charts`` and scratch a kill left behind."""
        scratch = _disk.prune_least_recent(
            _disk.subdirectories(self._cache_dir), keep=1 << 30, min_idle_s=min_idle_s, now=now
        )
        charts = helmrepos.prune_charts(
            self._cache_dir, keep_charts, min_idle_s=min_idle_s, now=now
        )
        return scratch + charts

    async def render(self, request: rendering.RenderRequest) -> list[dict[str, Any]]:
        """All objects of one source, in the tool's order.

        Raises:
            InvalidInputError: bad input (path escape, invalid YAML, unknown plugin, limits).
            RenderError: a tool failed, hung or flooded its output.
        """
        os.makedirs(self._cache_dir, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="render-", dir=self._cache_dir)
        try:
            return await self._render(request, scratch)
        except InvalidInputError as err:
            raise InvalidInputError(_jail.scrub(str(err), request.repo_root, scratch)) from None
        except RenderError as err:
            raise RenderError(_jail.scrub(str(err), request.repo_root, scratch)) from None
        except OSError as err:
            # A file the source names that is not there, not a file, or not readable: the
            # source's fault, reported as a render failure and never as a controller crash.
            reason = f"{err.strerror or type(err).__name__}: {err.filename or ''}".rstrip(": ")
            raise RenderError(_jail.scrub(reason, request.repo_root, scratch)) from None
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def reads_cluster_versions(self, request: rendering.RenderRequest) -> bool:
        """Whether the tool ``request`` renders with may read the destination's versions."""
        source = request.source
        if source.is_helm_chart:
            return True
        try:
            where = _jail.source_dir(request.repo_root, source.path or "")
            names = await asyncio.to_thread(os.listdir, where)
        except (OSError, InvalidInputError):
            return True  # the render says what is wrong; keyed on everything until then
        tool = rendering.detect_tool(source, names)
        return rendering.reads_cluster_versions(tool, source, request.options)

    async def _render(self, request: rendering.RenderRequest, scratch: str) -> list[dict[str, Any]]:
        source = request.source
        settings = self._settings
        if source.is_helm_chart:
            return await helm.render(
                request, "", helm=self._tools.path_of("helm"), settings=settings,
                cache_dir=self._cache_dir, scratch=scratch, credentials=self._helm_credentials,
                ca=self._trust().ca_for(source.repo_url),
            )  # fmt: skip
        await asyncio.to_thread(_jail.scan_symlinks, request.repo_root)
        where = _jail.source_dir(request.repo_root, source.path or "")
        tool = rendering.detect_tool(source, os.listdir(where))
        if tool == "helm":
            return await helm.render(
                request, where, helm=self._tools.path_of("helm"), settings=settings,
                cache_dir=self._cache_dir, scratch=scratch, credentials=self._helm_credentials,
            )  # fmt: skip
        if tool == "kustomize":
            return await kustomize.render(
                request, where, kustomize=self._tools.path_of("kustomize"),
                helm=self._tools.path_of("helm"), settings=settings, scratch=scratch,
            )  # fmt: skip
        if tool == "plugin":
            return await plugin.render(request, where, self._plugins(), scratch)
        return await directory.render(
            request, where, limits=self._limits, jsonnet_timeout_s=settings.jsonnet_timeout_s
        )
