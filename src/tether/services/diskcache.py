"""Keeping render caches on disk within bounds, for every process that renders.

The controller (rendering in-process) and ``tether repo-server`` both run this loop over their
own cache directory, from start-up on, leading or not.
"""

from __future__ import annotations

import asyncio
import datetime
import logging

from tether import ports

log = logging.getLogger(__name__)


async def prune_periodically(disk: ports.DiskCache, period: datetime.timedelta) -> None:
    """Prune ``disk`` now and every ``period`` until cancelled; a failing disk is only logged."""
    while True:
        try:
            removed = await disk.prune()
        except OSError as err:  # a full or read-only disk must not stop the process
            log.warning("pruning the render caches failed: %s", err)
        else:
            if removed:
                log.info("pruned %d idle trees and charts from the render caches", len(removed))
        await asyncio.sleep(period.total_seconds())
