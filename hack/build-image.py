"""Build tether's OCI image without a container daemon: ``make image`` runs this.

Three layers: a Debian bookworm root from mmdebstrap (cached by its recipe, at most a week), the
Python the project's venv runs on with helm and kustomize from the project's Go builds (cached
by their versions), and tether's wheel with exactly the locked dependencies in a virtualenv
(rebuilt every time, in well under a minute). ``ocilayout.py`` writes the OCI image layout and
its archive, which also carries Docker's ``manifest.json``. Nothing here imports tether.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import ocilayout  # hack/ocilayout.py, beside this script

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD_TOOLS = ROOT / "src" / "tether" / "adapters" / "devcluster" / "build-tools.sh"
NAME = "localhost/tether"
VENV = "/opt/tether"
UID = GID = 999
HOME = "/home/tether"

BASE_PACKAGES: dict[str, str] = {
    # What the image needs beyond Debian's minbase, each with the reason. Debian's own python3.11
    # (3.11.2) lacks tarfile's extraction filters (3.11.4), which tether's Git trees rely on, so
    # the interpreter is the one the project's venv runs on and these are the libraries its
    # extension modules load.
    "git": "every Git source is fetched with the git CLI",
    "openssh-client": "git's transport for ssh:// and scp-like repository URLs",
    "ca-certificates": "HTTPS to Git hosts, chart repositories and the API server",
    "tzdata": "sync windows name IANA time zones (zoneinfo reads /usr/share/zoneinfo)",
    "libssl3": "Python's ssl and hashlib",
    "libffi8": "Python's ctypes (cffi, used by cryptography)",
    "libsqlite3-0": "Python's sqlite3",
    "libbz2-1.0": "Python's bz2",
    "liblzma5": "Python's lzma",
    "zlib1g": "Python's zlib",
    "libuuid1": "Python's uuid",
    "libncursesw6": "Python's curses",
    "libreadline8": "Python's readline",
}

DPKG_EXCLUDES: dict[str, str] = {
    # Paths dpkg never unpacks, for size; nothing at run time reads them.
    "/usr/share/doc/*": "documentation (copyright files are kept, see DPKG_INCLUDES)",
    "/usr/share/man/*": "manual pages",
    "/usr/share/info/*": "info pages",
    "/usr/share/locale/*": "message translations: the image speaks C.UTF-8",
    "/usr/share/lintian/*": "packaging checks",
    "/usr/share/bash-completion/*": "no interactive shell",
    "/usr/lib/x86_64-linux-gnu/perl/5.36.0/CORE/*": "perl's C headers (git needs perl, not XS)",
    "/usr/lib/x86_64-linux-gnu/perl/5.36.0/auto/Encode/[CJKT][NPRW]/*": "CJK encodings",
}
DPKG_INCLUDES = ("/usr/share/doc/*/copyright",)

BASE_HOOKS = (
    # The user the image runs as: uid/gid 999 as agreed with the install manifests, no login.
    f'chroot "$1" useradd --system --uid {UID} --user-group --home-dir {HOME} --no-create-home'
    " --shell /usr/sbin/nologin tether",
    f'mkdir -p "$1{HOME}/.cache/tether" && chown -R {UID}:{GID} "$1{HOME}"',
    # mmdebstrap keeps apt's package lists out already; these are caches of the build.
    'rm -rf "$1"/var/cache/apt/*.bin "$1"/var/log/apt/* "$1"/var/log/dpkg.log',
)

MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
BASE_MAX_AGE_S = 7 * 24 * 3600
"""A cached base older than a week is rebuilt, so Debian's security updates reach the image."""

TOOLS: dict[str, str] = {
    # binary -> the build-tools.sh component that makes it
    "helm": "helm",
    "kustomize": "kustomize",
    "tether-goeval": "goeval",  # notifications' expressions and templates
}
PLATFORM = "x86_64-manylinux_2_36"
"""Wheels must run on bookworm's glibc 2.36, whatever machine builds the image."""

PYTHON_LEFT_OUT: dict[str, str] = {
    # Parts of the interpreter's prefix the image does without, relative to lib/python3.11.
    "site-packages": "the build machine's own packages; tether's are in its venv",
    "test": "CPython's test suite",
    "idlelib": "the IDLE editor",
    "tkinter": "Tk, with no display",
    "turtledemo": "demos",
    "ensurepip": "pip is never run in the image",
    "lib2to3/tests": "tests",
    "config-3.11-x86_64-linux-gnu": "static library and Makefile for building extensions",
    "lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so": "Tk (needs X11 libraries)",
    "lib-dynload/nis.cpython-311-x86_64-linux-gnu.so": "NIS (needs Kerberos libraries)",
}


VENV_LEFT_OUT: dict[str, str] = {
    # Installed by a locked wheel, yet never imported; relative to site-packages.
    "node_modules": "casbin 1.43's wheel ships its release tooling's npm packages by mistake",
}


def log(message: str) -> None:
    print(f"[image] {message}", file=sys.stderr, flush=True)


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, **kwargs)


@contextlib.contextmanager
def locked(directory: pathlib.Path) -> Iterator[None]:
    """One build at a time per cache (make image and the image test may run together)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cache_root() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "tether" / "image"


def key_of(recipe: object) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def base_layer(cache: pathlib.Path, epoch: int, refresh: bool) -> ocilayout.Layer:
    """Debian bookworm minbase plus BASE_PACKAGES, built by mmdebstrap at most weekly."""
    argv = ["mmdebstrap", "--variant=minbase", "--mode=auto", "--format=tar"]
    argv.append("--include=" + ",".join(sorted(BASE_PACKAGES)))
    argv += [f"--dpkgopt=path-exclude={p}" for p in DPKG_EXCLUDES]
    argv += [f"--dpkgopt=path-include={p}" for p in DPKG_INCLUDES]
    argv += [f"--customize-hook={hook}" for hook in BASE_HOOKS]
    # Device nodes belong to the runtime (it mounts /dev), and unprivileged unpacking cannot
    # create them; the empty directory is added below.
    argv += ["--skip=output/dev", "bookworm"]
    key = key_of({"argv": argv, "mirrors": MIRRORS})
    path = cache / f"base-{key}.tar.gz"
    cached = ocilayout.Layer.load(path)
    if cached and not refresh and time.time() - path.stat().st_mtime < BASE_MAX_AGE_S:
        log(f"base: cached {path.name}")
        return cached
    log("base: mmdebstrap bookworm minbase (about 2 minutes on a cold cache)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        tar_path = pathlib.Path(tmp) / "base.tar"
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
        run([*argv, str(tar_path), *MIRRORS], env=env, stdout=subprocess.DEVNULL)
        with ocilayout.layer_writer(path, "mmdebstrap " + " ".join(argv[1:])) as (out, done):
            # An empty /dev for the runtime to mount over; a tar is a sequence of entries, so
            # one more header in front of mmdebstrap's is a valid tar.
            out.write(
                ocilayout.entry("./dev", tarfile.DIRTYPE, 0o755, epoch).tobuf(tarfile.PAX_FORMAT)
            )
            with tar_path.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    log(f"base: built in {time.monotonic() - started:.0f} s")
    prune(cache, "base", path)
    return done[0]


def prune(cache: pathlib.Path, kind: str, keep: pathlib.Path) -> None:
    """Drop the cached layers of ``kind`` a new recipe replaced."""
    for old in cache.glob(f"{kind}-*.tar.gz"):
        if old != keep:
            old.unlink()
            old.with_suffix(".json").unlink(missing_ok=True)


def tool_dirs() -> dict[str, pathlib.Path]:
    """The tools' build directories by component: the project's Go builds, cached per machine."""
    done = run(["bash", str(BUILD_TOOLS), *dict.fromkeys(TOOLS.values())], stdout=subprocess.PIPE)
    dirs = {}
    for line in done.stdout.splitlines():
        name, sep, path = line.partition("=")
        if sep:
            dirs[name] = pathlib.Path(path)
    return dirs


def runtime_layer(cache: pathlib.Path, epoch: int) -> ocilayout.Layer:
    """The interpreter under /usr/local and the tools in /usr/local/bin, cached by version."""
    dirs = tool_dirs()
    prefix = pathlib.Path(sys.base_prefix)
    key = key_of(
        [sys.version, str(prefix), sorted(PYTHON_LEFT_OUT), [d.name for d in dirs.values()]]
    )
    path = cache / f"runtime-{key}.tar.gz"
    cached = ocilayout.Layer.load(path)
    if cached:
        log(f"runtime: cached {path.name}")
        return cached
    version = ".".join(map(str, sys.version_info[:3]))
    log(f"runtime: Python {version} from {prefix}, {', '.join(d.name for d in dirs.values())}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        staging = pathlib.Path(tmp)
        local = staging / "usr" / "local"
        (local / "bin").mkdir(parents=True)
        (local / "lib").mkdir()
        for tool, component in TOOLS.items():
            shutil.copy2(dirs[component] / tool, local / "bin" / tool)
        copy_python(prefix, local)
        with ocilayout.layer_writer(path, f"Python {version}, {', '.join(TOOLS)}") as (out, done):
            ocilayout.tar_tree(out, staging, epoch)
    prune(cache, "runtime", path)
    return done[0]


def copy_python(prefix: pathlib.Path, local: pathlib.Path) -> None:
    """The running interpreter's build, without what PYTHON_LEFT_OUT names, byte-compiled."""
    if not hasattr(tarfile, "data_filter"):
        sys.exit(f"Python {sys.version.split()[0]} lacks tarfile's filters: tether needs 3.11.4+")
    lib = local / "lib" / "python3.11"
    left_out = {prefix / "lib" / "python3.11" / part for part in PYTHON_LEFT_OUT}

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n == "__pycache__" or pathlib.Path(directory, n) in left_out}

    shutil.copytree(prefix / "lib" / "python3.11", lib, symlinks=True, ignore=ignore)
    (lib / "site-packages").mkdir()
    shutil.copy2(prefix / "bin" / "python3.11", local / "bin" / "python3.11")
    (local / "bin" / "python3").symlink_to("python3.11")
    shared = prefix / "lib" / "libpython3.11.so.1.0"
    if shared.exists():
        # The build machine's rpath names its own prefix; the library sits beside it instead.
        shutil.copy2(shared, local / "lib" / shared.name)
        run(["patchelf", "--set-rpath", "$ORIGIN/../lib", str(local / "bin" / "python3.11")])
    compile_tree(lib, local.parent.parent)


def compile_tree(tree: pathlib.Path, staging: pathlib.Path) -> None:
    """Byte-code with the paths it has in the image, checked by hash only (no mtimes).

    The image is read-only to its user, who could not write it later.
    """
    run(
        [sys.executable, "-m", "compileall", "-q", "-j0", "-s", str(staging), "-p", "/"]
        + ["--invalidation-mode", "unchecked-hash", str(tree)],
        stdout=subprocess.DEVNULL,
    )


def build_venv(staging: pathlib.Path, wheel: pathlib.Path, work: pathlib.Path) -> None:
    """tether's wheel and the locked dependencies (hash-checked) in a relocatable venv."""
    uv = shutil.which("uv") or str(pathlib.Path.home() / ".local" / "bin" / "uv")
    requirements = work / "requirements.txt"
    run(
        [uv, "export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-header"]
        + ["--format", "requirements-txt", "--quiet", "-o", str(requirements)],
        cwd=ROOT,
    )
    venv = staging / VENV.lstrip("/")
    python = pathlib.Path(sys.base_prefix) / "bin" / "python3.11"
    run([uv, "venv", "--quiet", "--relocatable", "--python", str(python), str(venv)])
    install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    install += ["--link-mode", "copy", "--no-deps", "--python-platform", PLATFORM]
    run([*install, "--require-hashes", "-r", str(requirements)])
    run([*install, "--no-index", str(wheel)])
    site = venv / "lib" / "python3.11" / "site-packages"
    for left_out in VENV_LEFT_OUT:
        shutil.rmtree(site / left_out)
    # Where the wheel was and when uv installed it: the build machine's, and different each
    # time, so the layer would never be the same twice.
    dist_info = site / f"tether-{wheel.name.split('-')[1]}.dist-info"
    for name in ("direct_url.json", "uv_cache.json"):
        (dist_info / name).unlink(missing_ok=True)
    record = dist_info / "RECORD"
    kept = [
        line
        for line in record.read_text().splitlines()
        if line.split(",")[0].rsplit("/", 1)[-1] not in ("direct_url.json", "uv_cache.json")
    ]
    record.write_text("\n".join(kept) + "\n")
    compile_tree(venv / "lib", staging)
    # Point the venv at the image's interpreter instead of the build machine's.
    for link in ("python", "python3", "python3.11"):
        (venv / "bin" / link).unlink(missing_ok=True)
    (venv / "bin" / "python").symlink_to("/usr/local/bin/python3.11")
    (venv / "bin" / "python3").symlink_to("python")
    (venv / "bin" / "python3.11").symlink_to("python")
    cfg = venv / "pyvenv.cfg"
    lines = [
        "home = /usr/local/bin" if line.startswith("home =") else line
        for line in cfg.read_text().splitlines()
    ]
    cfg.write_text("\n".join(lines) + "\n")
    (staging / "usr" / "local" / "bin").mkdir(parents=True)
    (staging / "usr" / "local" / "bin" / "tether").symlink_to(f"{VENV}/bin/tether")


def app_layer(out_dir: pathlib.Path, wheel: pathlib.Path, epoch: int) -> ocilayout.Layer:
    """The virtualenv at /opt/tether and the ``tether`` command on PATH."""
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        staging = pathlib.Path(tmp) / "root"
        build_venv(staging, wheel, pathlib.Path(tmp))
        path = out_dir / "app.tar.gz"
        with ocilayout.layer_writer(path, f"uv pip install {wheel.name} (locked)") as (out, done):
            ocilayout.tar_tree(out, staging, epoch)
    return done[0]


def build_wheel(work: pathlib.Path) -> pathlib.Path:
    if not (ROOT / "src/tether/ui/static/dist/ui.js").is_file():
        sys.exit("the web UI's bundle is missing: run `make ui` first (make image does)")
    uv = shutil.which("uv") or str(pathlib.Path.home() / ".local" / "bin" / "uv")
    run([uv, "build", "--wheel", "--quiet", "-o", str(work)], cwd=ROOT)
    (wheel,) = work.glob("tether-*.whl")
    return wheel


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def labels(version: str, epoch: int) -> dict[str, str]:
    found = {
        "org.opencontainers.image.title": "tether",
        "org.opencontainers.image.description": "GitOps CD for Kubernetes, Argo CD's API",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": git("rev-parse", "HEAD"),
        "org.opencontainers.image.created": ocilayout.iso(epoch),
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.base.name": "debian:bookworm (mmdebstrap minbase)",
    }
    # Only a public URL says where the source is; a local clone's path means nothing elsewhere.
    source = os.environ.get("TETHER_IMAGE_SOURCE") or git("remote", "get-url", "origin")
    if source.startswith("https://"):
        found["org.opencontainers.image.source"] = source
    return {k: v for k, v in found.items() if v}


def image_config(version: str, epoch: int, layers: list[ocilayout.Layer]) -> dict[str, Any]:
    return {
        "created": ocilayout.iso(epoch),
        "architecture": "amd64",
        "os": "linux",
        "config": {
            # Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
            "User": f"{UID}:{GID}",
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"HOME={HOME}",
                "LANG=C.UTF-8",
                "PYTHONUNBUFFERED=1",  # log lines reach the container's log as they happen
                "PYTHONDONTWRITEBYTECODE=1",  # compiled at build time; the venv is read-only
                # The tools are in the image: never try to build them (no Go inside).
                "TETHER_HELM=/usr/local/bin/helm",
                "TETHER_KUSTOMIZE=/usr/local/bin/kustomize",
                "TETHER_TETHER_GOEVAL=/usr/local/bin/tether-goeval",
            ],
            "Entrypoint": ["tether"],
            "Cmd": ["--help"],
            "WorkingDir": HOME,
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": labels(version, epoch),
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [
            {"created": ocilayout.iso(epoch), "created_by": layer.created_by} for layer in layers
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "build" / "image")
    parser.add_argument("--cache", type=pathlib.Path, default=cache_root())
    parser.add_argument("--refresh-base", action="store_true", help="rebuild the Debian base")
    args = parser.parse_args()
    started = time.monotonic()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or git("log", "-1", "--format=%ct") or 0)
    out: pathlib.Path = args.output.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with locked(args.cache):
        base = base_layer(args.cache, epoch, args.refresh_base)
        runtime = runtime_layer(args.cache, epoch)
    with tempfile.TemporaryDirectory(dir=out) as work:
        wheel = build_wheel(pathlib.Path(work))
        version = wheel.name.split("-")[1]
        log(f"tether {version}: installing the wheel and the locked dependencies")
        app = app_layer(out, wheel, epoch)
    layers = [base, runtime, app]
    reference = f"{NAME}:{version}"
    config = image_config(version, epoch, layers)
    docker = ocilayout.write_layout(out / "oci", reference, config, layers)
    archive = out / f"tether-{version}.oci.tar"
    ocilayout.write_archive(out / "oci", archive, docker, epoch)
    app.path.unlink()
    app.path.with_suffix(".json").unlink()
    for stale in out.glob("tether-*.oci.tar"):
        if stale != archive:
            stale.unlink()
    size = sum(layer.size for layer in layers)
    log(f"{NAME}:{version} built in {time.monotonic() - started:.0f} s")
    log(f"  layers: {', '.join(f'{layer.size / 1e6:.0f} MB' for layer in layers)} (gzip)")
    print(f"layout={out / 'oci'}\narchive={archive}\nreference={NAME}:{version}\nsize={size}")


if __name__ == "__main__":
    main()
