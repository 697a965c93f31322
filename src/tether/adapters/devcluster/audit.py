"""The local API server's audit log: which writes it records, and the flags that turn it on."""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

POLICY: dict[str, Any] = {
    # What the API server records with ``up(audit=True)``: the writes that tests of the
    # controller's replicas check for interleaving (who wrote what, each request's start and
    # end), nothing else, so the log stays small.
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "rules": [
        {
            "level": "Metadata",
            "verbs": ["create", "update", "patch", "delete"],
            "resources": [
                {"group": "", "resources": ["configmaps"]},
                {"group": "argoproj.io", "resources": ["applications"]},
            ],
        },
        {"level": "None"},
    ],
}


def argv(directory: str, log_path: str) -> list[str]:
    """The API server's flags that log ``POLICY``'s writes to ``log_path`` (none when empty)."""
    if not log_path:
        return []
    policy = pathlib.Path(directory) / "audit-policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    return [
        f"--audit-policy-file={policy}",
        f"--audit-log-path={log_path}",
        # A bound for a long test session on tmpfs: one backup of 512 MB at most.
        "--audit-log-maxsize=512",
        "--audit-log-maxbackup=1",
    ]
