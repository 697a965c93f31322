"""The OCI image ``make image`` builds: unpacked with umoci, run as its config says in a chroot.

The image is built once per run by the same script as ``make image`` (its Debian base and its
runtime layer come from ``~/.cache/tether/image``), unpacked by umoci, and its entrypoint run
with the image config's environment, user and working directory inside fresh mount and PID
namespaces, as a container runtime would, with no container daemon.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import pwd
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

import tether

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEMO = ROOT / "examples" / "demo"
BUILD_TIMEOUT_S = 30 * 60
"""A cold build (Debian base, interpreter, gojsonnet from its sdist) takes minutes on 2 cores."""

pytestmark = [
    pytest.mark.tools,
    pytest.mark.timeout(180),
    # One worker builds and unpacks the image once for the whole module.
    pytest.mark.xdist_group("image"),
]

IS_ROOT = os.geteuid() == 0


def _user_namespaces() -> str:
    """Why the image cannot run here without root, or '' if unprivileged namespaces work."""
    try:
        probe = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "true"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        return "unshare is not installed"
    if probe.returncode != 0:
        return probe.stderr.strip()
    # mmdebstrap's unshare mode installs packages as many users: it maps subordinate ids.
    user = pwd.getpwuid(os.getuid()).pw_name
    try:
        ranges = pathlib.Path("/etc/subuid").read_text().splitlines()
    except OSError:
        ranges = []
    if not any(line.split(":")[0] in (user, str(os.getuid())) for line in ranges):
        return f"{user} has no subordinate ids in /etc/subuid (usermod --add-subuids)"
    return ""


if not IS_ROOT and (reason := _user_namespaces()):
    pytestmark.append(
        pytest.mark.skip(
            reason=f"not root and unprivileged user namespaces are unavailable: {reason}"
        )
    )


@dataclasses.dataclass(frozen=True)
class Image:
    """A built image: its layout, its archive, its OCI config and the unpacked root."""

    layout: pathlib.Path
    archive: pathlib.Path
    config: dict[str, Any]
    rootfs: pathlib.Path

    def run(self, *args: str, entrypoint: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the entrypoint (or ``args`` alone) with the config's env, user and workdir."""
        settings = self.config["config"]
        argv = [*settings["Entrypoint"], *args] if entrypoint else list(args)
        env = dict(line.split("=", 1) for line in settings["Env"])
        # Without root, only root is mapped into the user namespace: the image's user cannot
        # be taken there, so it runs as the namespace's root.
        user = settings["User"] if IS_ROOT else "0:0"
        namespaces = ["--mount", "--pid", "--fork", "--kill-child"]
        if not IS_ROOT:
            namespaces = ["--user", "--map-root-user", *namespaces]
        return subprocess.run(
            [
                *("unshare", *namespaces, "--", "sh", "-c", RUN_IN_ROOT, "sh"),
                *(str(self.rootfs), user, settings["WorkingDir"], *argv),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


RUN_IN_ROOT = r"""
root=$1 user=$2 workdir=$3; shift 3
mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" || exit 125
exec chroot --userspec="$user" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
"""
"""What a runtime does before starting a container's process: /dev and /proc, then the root,
the user and the working directory; the process finds its command through the image's PATH."""


def _blob(layout: pathlib.Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    out = tmp_path_factory.mktemp("image")
    built = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "build-image.py"), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-5000:]
    facts = dict(line.split("=", 1) for line in built.stdout.splitlines() if "=" in line)
    layout = pathlib.Path(facts["layout"])
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]))
    config = json.loads(_blob(layout, manifest["config"]["digest"]))
    bundle = out / "bundle"
    rootless = [] if IS_ROOT else ["--rootless"]
    unpacked = subprocess.run(
        ["umoci", "unpack", *rootless, "--image", f"{layout}:{tether.__version__}", str(bundle)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert unpacked.returncode == 0, unpacked.stderr
    rootfs = bundle / "rootfs"
    shutil.copytree(DEMO, rootfs / "tmp" / "demo")
    yield Image(layout, pathlib.Path(facts["archive"]), config, rootfs)
    # Layout, archive and root are 700 MB: pytest's kept temporary directories need not hold them.
    shutil.rmtree(out)


def test_the_image_is_tagged_with_the_package_version_and_runs_as_uid_999(image):
    settings = image.config["config"]
    assert settings["Entrypoint"] == ["tether"]
    assert settings["User"] == "999:999"
    assert "HOME=/home/tether" in settings["Env"]
    assert settings["WorkingDir"] == "/home/tether"
    labels = settings["Labels"]
    assert labels["org.opencontainers.image.version"] == tether.__version__
    assert len(labels["org.opencontainers.image.revision"]) == 40
    index = json.loads((image.layout / "index.json").read_text())
    annotations = index["manifests"][0]["annotations"]
    assert annotations["io.containerd.image.name"] == f"localhost/tether:{tether.__version__}"
    assert annotations["org.opencontainers.image.ref.name"] == tether.__version__


def test_the_entrypoint_prints_tethers_version_inside_the_image(image):
    done = image.run("--version")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"tether, version {tether.__version__}"


@pytest.mark.parametrize(
    ("app", "deployment", "greeting"),
    [
        # valuesObject sets the greeting: helm ran.
        ("helm", "web", "hello from helm"),
        # The overlay's prefix and the generated ConfigMap: kustomize ran.
        ("kustomize", "demo-web", "hello from kustomize"),
        ("plain", "web", "hello from plain YAML"),
    ],
)
def test_the_entrypoint_renders_the_demo_with_the_images_own_tools(
    image, app, deployment, greeting
):
    done = image.run("render", "-f", f"/tmp/demo/apps/{app}.yaml", "--repo-root", "/tmp/demo")

    assert done.returncode == 0, done.stderr
    objects = list(yaml.safe_load_all(done.stdout))
    by_kind = {o["kind"]: o for o in objects}
    assert by_kind["Deployment"]["metadata"]["name"] == deployment
    assert by_kind["ConfigMap"]["data"]["greeting"] == greeting


@pytest.mark.parametrize(
    ("command", "says"), [(("git", "--version"), "git version"), (("ssh", "-V"), "OpenSSH")]
)
def test_git_and_ssh_are_on_the_images_path(image, command, says):
    done = image.run(*command, entrypoint=False)

    assert done.returncode == 0, done.stderr
    assert says in done.stdout + done.stderr


def test_the_image_carries_the_web_uis_bundle(image):
    site = image.rootfs / "opt/tether/lib/python3.11/site-packages"

    assert (site / "tether/ui/static/dist/ui.js").stat().st_size > 1000


def test_the_images_user_can_write_its_cache_but_not_the_code_it_runs(image):
    script = (
        "import os, pathlib, tether; home = pathlib.Path.home();"
        "print(os.getuid(), home, os.access(home / '.cache/tether', os.W_OK),"
        " os.access(tether.__file__, os.W_OK), tether.__file__)"
    )
    done = image.run("/opt/tether/bin/python", "-c", script, entrypoint=False)

    assert done.returncode == 0, done.stderr
    uid, home, cache_writable, code_writable, module = done.stdout.split()
    assert (home, cache_writable) == ("/home/tether", "True")
    if IS_ROOT:
        assert (uid, code_writable) == ("999", "False")
    assert module == "/opt/tether/lib/python3.11/site-packages/tether/__init__.py"


def test_every_extension_module_of_the_images_python_loads(image):
    script = (
        "import importlib, pathlib, sys;"
        "names = sorted(p.name.split('.')[0] for p in"
        " pathlib.Path(sys.base_prefix, 'lib/python3.11/lib-dynload').glob('*.so'));"
        "[importlib.import_module(n) for n in names]; print(len(names))"
    )
    done = image.run("/opt/tether/bin/python", "-c", script, entrypoint=False)

    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40


def test_byte_code_names_the_paths_in_the_image_and_nothing_of_the_build_machine(image):
    venv = image.rootfs / "opt" / "tether"
    site = venv / "lib/python3.11/site-packages"
    tether_main = next((site / "tether/cli/__pycache__").glob("main.*"))
    stdlib_os = next((image.rootfs / "usr/local/lib/python3.11/__pycache__").glob("os.*"))

    assert "home = /usr/local/bin" in (venv / "pyvenv.cfg").read_text()
    in_image = f"/{site.relative_to(image.rootfs)}/tether/cli/main.py"
    assert in_image.encode() in tether_main.read_bytes()
    assert b"/usr/local/lib/python3.11/os.py" in stdlib_os.read_bytes()
    for compiled in (tether_main, stdlib_os):
        assert str(image.layout.parent).encode() not in compiled.read_bytes()
        assert sys.base_prefix.encode() not in compiled.read_bytes()
    assert not (site / "tests").exists()
    assert not list((image.rootfs / "usr/local/lib/python3.11/site-packages").iterdir())


def test_the_archive_holds_the_layout_and_dockers_manifest_naming_the_image(image):
    with tarfile.open(image.archive) as archive:
        names = set(archive.getnames())
        docker = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
        index = json.loads(archive.extractfile("index.json").read())  # type: ignore[union-attr]
        for layer in docker[0]["Layers"]:
            blob = archive.extractfile(layer).read()  # type: ignore[union-attr]
            assert "sha256:" + hashlib.sha256(blob).hexdigest() == "sha256:" + layer.split("/")[-1]

    assert {"oci-layout", "index.json", "manifest.json"} <= names
    assert docker[0]["RepoTags"] == [f"localhost/tether:{tether.__version__}"]
    assert index["manifests"][0]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
