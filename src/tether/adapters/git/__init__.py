"""The Git adapter: bare mirrors driven by the git CLI, implementing ``ports.GitRepos``.

Use ``MirrorCache(cache_dir, credentials=store.lookup, trust=...)``.
"""

from tether.adapters.git.repos import FetchStats, MirrorCache

__all__ = ["FetchStats", "MirrorCache"]
