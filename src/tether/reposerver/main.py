"""The repo-server process's defaults; ``tether repo-server`` serves it (``bootstrap.serve_http``).

The repo-server never imports bootstrap itself (it must not reach Kubernetes, even indirectly),
so the CLI hands it the socket and TLS handling every tether entry point shares.
"""

from __future__ import annotations

DEFAULT_LISTEN = "127.0.0.1:8081"
"""Loopback unless configured otherwise: exposing the render API is a decision."""
