"""Name resolution for the checks made before a fetch (``core.sources.remote``)."""

from __future__ import annotations

import socket


def resolve_host(host: str) -> list[str]:
    """The addresses ``host`` resolves to; none when it does not resolve (the fetch then fails)."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
    except (OSError, UnicodeError):
        return []
