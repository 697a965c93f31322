"""What renders leave on this process's disk, and its pruning within the settings' limits."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from tether.adapters.git import MirrorCache
from tether.adapters.render import renderer as render_adapter
from tether.adapters.rendercache import DiskRenderCache
from tether.settings import Settings


@dataclasses.dataclass(frozen=True)
class DiskCaches:
    """What renders leave on disk (trees, charts, rendered manifests), kept within the settings."""

    git: MirrorCache
    renderer: render_adapter.Renderer
    settings: Settings
    rendered: DiskRenderCache | None = None
    """Rendered manifests; ``None`` with ``render_cache_disk_mib`` 0."""

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
