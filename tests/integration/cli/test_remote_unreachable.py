"""The remote CLI when its API server cannot be reached: the real ``tether`` command, a real
socket nobody listens on."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import gitservers
from tether.cli import contexts

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.dG9wLXNlY3JldC1zaWduYXR1cmU"


def test_an_unreachable_server_is_named_exits_2_and_never_shows_the_token(tmp_path):
    server = f"127.0.0.1:{gitservers.free_port()}"
    config = contexts.Config()
    config.logged_in("gone", server, token=TOKEN, plaintext=True)
    contexts.save(config, tmp_path / "tether" / "config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)

    done = subprocess.run(
        [sys.executable, "-m", "tether", "app", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )

    assert done.returncode == 2
    assert f"cannot reach the API server http://{server}" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
