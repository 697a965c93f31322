"""What rendering an Application gives: every object of its sources, or a failure saying why.

One type pair for every renderer of Applications (``ports.ManifestSource``): the in-process
manifest service and the repo-server client both answer with these.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tether.core import redact


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A complete render. ``manifests`` may be empty: that is a real, successful empty render.

    The objects are shared with the cache: treat them as read-only.
    """

    manifests: tuple[dict[str, Any], ...]
    revisions: tuple[str, ...]
    """Per source: the resolved commit (Git) or the chart version constraint (Helm repository)."""

    @property
    def empty(self) -> bool:
        """Whether the sources rendered to no objects at all."""
        return not self.manifests


@dataclasses.dataclass(frozen=True)
class RenderFailed:
    """A render that failed: the desired state is unknown, never empty."""

    message: str
    """Names the Application, the source, the file and the reason; never a credential."""
    revisions: tuple[str, ...] = ()
    invalid_input: bool = False
    """The spec or the repository content is at fault (vs. a tool or Git failure)."""

    def __post_init__(self) -> None:
        # Every render message leaves through here: scrub the URL credentials it may quote.
        object.__setattr__(self, "message", redact.text(self.message))


RenderResult = Rendered | RenderFailed
