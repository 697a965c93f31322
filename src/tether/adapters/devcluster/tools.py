"""Locate the external binaries tether runs, building them once per machine from Go modules.

The build itself is ``build-tools.sh`` beside this module; results live in
``~/.cache/tether/tools`` (``$TETHER_TOOLS_CACHE``), so a second lookup costs a stat.
"""

from __future__ import annotations

import functools
import os
import pathlib
from collections.abc import Callable

from tether.adapters import _process
from tether.model.errors import ToolBuildError

BUILD_SCRIPT = pathlib.Path(__file__).with_name("build-tools.sh")

COMPONENT_OF_TOOL: dict[str, str] = {
    # Which build produces each binary; kube-* share one Go module, so one build gives all three.
    "kube-apiserver": "apiserver",
    "kube-controller-manager": "apiserver",
    "kube-scheduler": "apiserver",
    "etcd": "etcd",
    "helm": "helm",
    "kustomize": "kustomize",
    "kwok": "kwok",
    "dex": "dex",
    "registry": "registry",  # tests only: the OCI registry Helm charts are pulled from
    "tether-goeval": "goeval",  # notifications' expressions and templates, with Go's libraries
}

COLD_BUILD_TIMEOUT_S = 90 * 60
"""A cold kube-apiserver build takes 15-30 minutes on 2 cores; anything past 90 is stuck."""


def build(
    *components: str, progress: Callable[[str], None] | None = None
) -> dict[str, pathlib.Path]:
    """Build (or find cached) components; returns each one's binary directory.

    ``progress`` hears the build script's own lines (``building helm``, ``compiling ...``) as
    they come; a cached component says nothing.
    """
    names = components or tuple(dict.fromkeys(COMPONENT_OF_TOOL.values()))
    env = _process.base_env({"TETHER_TOOLS_CACHE": str(cache_dir())})
    for var in (
        "K8S_VERSION",
        "ETCD_VERSION",
        "HELM_VERSION",
        "KUSTOMIZE_VERSION",
        "KWOK_VERSION",
        "DEX_VERSION",
        "REGISTRY_VERSION",
    ):
        if var in os.environ:
            env[var] = os.environ[var]
    try:
        done = _process.run_sync(
            ["bash", str(BUILD_SCRIPT), *names],
            env=env,
            timeout=COLD_BUILD_TIMEOUT_S,
            stderr_line=_script_lines(progress) if progress is not None else None,
        )
    except _process.ProcessError as err:
        failed = _failed_component(err.stderr) or ", ".join(names)
        raise ToolBuildError(
            f"could not build {failed} from the Go module proxy: {err.stderr.strip()[-3000:]}"
        ) from None
    dirs: dict[str, pathlib.Path] = {}
    for line in done.stdout.decode().splitlines():
        name, sep, path = line.partition("=")
        if sep:
            dirs[name] = pathlib.Path(path)
    return dirs


SCRIPT_MARK = "[build-tools] "
"""What starts the script's own lines on stderr; go's chatter (a line per module) does not."""


def _script_lines(progress: Callable[[str], None]) -> Callable[[str], None]:
    def line(text: str) -> None:
        if text.startswith(SCRIPT_MARK):
            progress(text.removeprefix(SCRIPT_MARK))

    return line


def _failed_component(stderr: str) -> str:
    marker = "FAILED to build component '"
    if marker in stderr:
        return stderr.split(marker, 1)[1].split("'", 1)[0]
    return ""


@functools.cache
def path_of(tool: str) -> str:
    """Absolute path of ``tool``: an override ``TETHER_<TOOL>`` first, then the cached build."""
    override = os.environ.get("TETHER_" + tool.upper().replace("-", "_"))
    if override:
        return override
    component = COMPONENT_OF_TOOL.get(tool)
    if component is None:
        raise ToolBuildError(f"unknown tool {tool!r}; known: {', '.join(COMPONENT_OF_TOOL)}")
    return str(build(component)[component] / tool)


def cache_dir() -> pathlib.Path:
    """Where tool builds are cached, outside any repository."""
    explicit = os.environ.get("TETHER_TOOLS_CACHE")
    if explicit:
        return pathlib.Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "tether" / "tools"


class ToolLocator:
    """The ``ports.ToolLocator`` implementation over :func:`path_of`."""

    def path_of(self, tool: str) -> str:
        """Absolute path of a tool binary."""
        return path_of(tool)
