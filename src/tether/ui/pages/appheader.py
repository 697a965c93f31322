"""An application page's header and actions: statuses, revision, commit, operation progress.

Also what the user may do there (sync, rollback, terminate, delete, refresh), asked of the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.ui import apicall


async def values(api: apicall.Api, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What ``_app_header.html`` and ``_app_dialogs.html`` show for ``obj``."""
    del api, obj  # the header's work fills this in
    return {}
