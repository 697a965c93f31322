"""Credential plugins of cluster Secrets run for real: what they give, and how they fail."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

from tether.adapters.kube import execauth
from tether.model.clusters import ClusterCredentials, ClusterEntry, ExecProvider
from tether.model.errors import ClusterError

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


def plugin(tmp_path: Path, body: str) -> ClusterEntry:
    script = tmp_path / "plugin"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(0o755)
    credentials = ClusterCredentials(exec_provider=ExecProvider(str(script)))
    return ClusterEntry("edge", "https://10.0.0.7:6443", credentials=credentials)


async def test_a_plugins_token_becomes_the_bearer_token_until_shortly_before_it_expires(
    tmp_path: Path,
) -> None:
    entry = plugin(
        tmp_path,
        'print(\'{"kind": "ExecCredential", "status": {"token": "t0k3n", '
        '"expirationTimestamp": "2026-12-07T13:00:00Z"}}\')',
    )
    resolved = await execauth.resolve(entry)
    assert resolved.entry.credentials is not None
    assert resolved.entry.credentials.bearer_token == "t0k3n"
    assert resolved.expires_at == NOW + datetime.timedelta(hours=1)
    renew = resolved.renew_at(NOW)
    assert renew is not None


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("sys.stderr.write('secret-in-stderr'); sys.exit(3)", "failed"),
        ("print('not json, secret-in-stdout')", "printed no ExecCredential"),
        ("print('{\"status\": {}}')", "neither a token nor a client certificate"),
    ],
)
async def test_a_failing_plugin_is_named_and_nothing_it_printed_is_repeated(
    tmp_path: Path, body: str, said: str
) -> None:
    with pytest.raises(ClusterError) as raised:
        await execauth.resolve(plugin(tmp_path, body))
    message = str(raised.value)
    assert said in message and "credential plugin" in message
    assert "secret-in" not in message
