"""What renders leave on this process's disk, and its pruning within the settings' limits."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

from tether.adapters.git import MirrorCache
from tether.adapters.render import renderer as render_adapter
from tether.adapters.rendercache import DiskRenderCache
from tether.core.sources.rendering import DEFAULT_BUILD_OPTIONS, BuildOptions
from tether.services import manifests
from tether.settings import Settings


@dataclasses.dataclass(frozen=True)
class DiskCaches:
    """What renders leave on disk (trees, charts, rendered manifests), kept within the settings."""

    git: MirrorCache
    renderer: render_adapter.Renderer
    settings: Settings
    rendered: DiskRenderCache | None = None
    """Rendered manifests; ``None`` with ``render_cache_disk_mib`` 0."""

    def manifest_service(
        self, options: BuildOptions | Callable[[], BuildOptions] = DEFAULT_BUILD_OPTIONS
    ) -> manifests.ManifestService:
        """Renders from these caches, kept in memory up to ``render_cache_mib``.

        ``options``: the operator's build options, or what gives them now (``argocd-cm``).
        """
        return manifests.ManifestService(
            self.git,
            self.renderer,
            cache_bytes=self.settings.render_cache_mib << 20,
            options=options,
            disk=self.rendered,
        )

    async def prune(self) -> list[str]:
        """Delete idle trees, charts and renders beyond the limits, and a killed run's scratch."""
        idle = self.settings.disk_cache_idle.total_seconds()

        def prune_all() -> list[str]:
            trees = self.git.prune_trees(self.settings.git_trees_kept, min_idle_s=idle)
            now = time.time()
            charts = self.renderer.prune(self.settings.charts_kept, min_idle_s=idle, now=now)
            rendered = self.rendered.prune(now=now) if self.rendered is not None else []
            return trees + charts + rendered

        return await asyncio.to_thread(prune_all)
