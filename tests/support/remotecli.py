"""The remote CLI's end-to-end world: ``tether run`` with its API on a free loopback port, a served
repository, and the real ``tether`` command run with a config directory per user."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from tests.support import tetherenv

CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: "%s"}
"""


def until(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}: last value {last!r}")


class Remote:
    """One test's world: a namespace served by ``tether run`` with its API, and the CLI."""

    def __init__(
        self, kubeconfig: Path, namespace: str, repo: tetherenv.ServedRepo, home: Path
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.repo = repo
        self.home = home
        self.kube: Client = tetherenv.client(kubeconfig)
        self.server = ""
        self.name = f"web-{uuid.uuid4().hex[:6]}"
        self.outputs: list[str] = []

    def tether(
        self, *args: str, timeout: float = 180, config: str = "default"
    ) -> subprocess.CompletedProcess[str]:
        """``tether <args>`` with this user's config directory (``config`` names the user)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
        env["XDG_CONFIG_HOME"] = str(self.home / config)
        env.pop("KUBECONFIG", None)  # remote commands need no Kubernetes credentials
        done = subprocess.run(
            [sys.executable, "-m", "tether", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
        self.outputs += [done.stdout, done.stderr]
        return done

    def create_args(self) -> list[str]:
        """``app create`` of this test's app: the served repository's ``app`` at ``main``."""
        return [
            *("app", "create", self.name, "--repo", self.repo.url, "--path", "app"),
            *("--revision", "main", "--dest-server", "https://kubernetes.default.svc"),
            *("--dest-namespace", self.namespace),
        ]

    def config_file(self, config: str = "default") -> Path:
        return self.home / config / "tether" / "config"

    def tokens(self) -> list[str]:
        found: list[str] = []
        for path in self.home.glob("*/tether/config"):
            users = yaml.safe_load(path.read_text()).get("users") or []
            found.extend(u["auth-token"] for u in users if u.get("auth-token"))
        return found

    def admin_password(self) -> str:
        def read() -> str:
            try:
                secret = self.kube.get(
                    Secret, "argocd-initial-admin-secret", namespace=self.namespace
                )
            except ApiError:
                return ""
            return base64.b64decode((secret.data or {}).get("password", "")).decode()

        return str(until(read, what="the initial admin password"))

    def login(self, username: str, password: str, config: str = "default") -> None:
        done = self.tether(
            "login",
            self.server,
            "--plaintext",
            "--username",
            username,
            "--password",
            password,
            "--name",
            "e2e",
            config=config,
        )
        assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def served(
    kubeconfig: Path,
    namespace: str,
    tmp: Path,
    *,
    settings: Mapping[str, str] = {},
    extra: Sequence[Any] = (),
) -> Iterator[Remote]:
    """A repository, ``argocd-cm`` with ``settings`` (and the objects in ``extra``), then
    ``tether run`` serving the API; everything is stopped afterwards."""
    repo = tetherenv.serve_repo(tmp / "git", {"app/config.yaml": CONFIG % "hello"})
    world = Remote(kubeconfig, namespace, repo, tmp / "home")
    world.kube.create(
        ConfigMap(metadata=ObjectMeta(name="argocd-cm", namespace=namespace), data=dict(settings))
    )
    for obj in extra:
        world.kube.create(obj)
    controller = tetherenv.start_controller_process(
        kubeconfig,
        namespace,
        tmp / "cache",
        tmp / "controller.log",
    )
    try:
        world.server = asyncio.run(controller.api_url(timeout=90))
        yield world
    finally:
        world.kube.close()
        controller.stop()
        repo.server.stop()
        print(controller.log()[-4000:])
