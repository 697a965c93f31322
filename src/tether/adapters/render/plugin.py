"""Config-management plugins the operator declared: discovery, then init and generate as argv lists.

No shell ever runs: parameters reach the plugin as ``PARAM_*`` variables and JSON, never as argv.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Sequence
from typing import Any

from tether.adapters import _process
from tether.adapters.commandline import CommandLine
from tether.core import globs
from tether.core.sources import kubeyaml, rendering
from tether.model.errors import InvalidInputError, RenderError
from tether.model.source import ApplicationSourcePlugin


async def choose(
    options: ApplicationSourcePlugin,
    plugins: Sequence[rendering.PluginSpec],
    directory: str,
    env: dict[str, str],
) -> rendering.PluginSpec:
    """The plugin named by the source, or the first whose discovery rule selects its directory.

    Argo CD's rules, in its order: ``fileName`` (a glob at the source's directory), then
    ``find.glob`` (any file below it), then ``find.command`` (prints something).
    """
    if options.name:
        for spec in plugins:
            if spec.name == options.name:
                return spec
        raise InvalidInputError(f"spec.source.plugin.name: no plugin named {options.name!r}")
    rel_paths = list(_files(directory))
    for spec in plugins:
        if await _discovers(spec, directory, rel_paths, env):
            return spec
    raise InvalidInputError("spec.source.plugin: no configured plugin matches this source")


async def _discovers(
    spec: rendering.PluginSpec, directory: str, rel_paths: Sequence[str], env: dict[str, str]
) -> bool:
    if spec.discover_file_name:
        pattern = spec.discover_file_name.removeprefix("./")
        if any(globs.filepath_match(pattern, rel) for rel in rel_paths):
            return True
    if spec.discover and any(_doublestar(spec.discover, rel) for rel in rel_paths):
        return True
    if spec.discover_command:
        try:
            done = await _process.run(
                CommandLine(*spec.discover_command).argv,  # the operator's argv
                cwd=directory,
                env=env,
                timeout=spec.timeout_s,
                output_limit=1 << 20,
            )
        except _process.ProcessError as err:
            raise RenderError(f"plugin {spec.name} discovery: {err.reason}") from None
        return bool(done.stdout.strip())
    return False


async def render(
    request: rendering.RenderRequest,
    directory: str,
    plugins: Sequence[rendering.PluginSpec],
    scratch: str,
) -> list[dict[str, Any]]:
    """Run the source's plugin in a writable copy of the repository and parse its output.

    Plugins may write (``helm dependency build``, generated files), and the checkout is
    read-only and shared, so each run gets its own copy, as Argo CD's plugin sidecar does.
    """
    options = request.source.plugin or ApplicationSourcePlugin()
    build = request.env
    # An empty home of its own: the controller user's ~/.kube, ~/.ssh and ~/.git-credentials
    # are nothing a plugin needs (the administrator's env may still name a HOME).
    home = os.path.join(scratch, "home")
    os.makedirs(home, exist_ok=True)
    user_env = rendering.plugin_env(options, build)
    spec = await choose(
        options, plugins, directory, _process.base_env({"HOME": home, **build, **user_env})
    )
    env = _process.base_env({"HOME": home, **spec.env, **build, **user_env})
    copy = os.path.join(scratch, "repo")
    await asyncio.to_thread(
        _writable_copy, request.repo_root, copy, preserve_mode=spec.preserve_file_mode
    )
    directory = os.path.join(copy, os.path.relpath(directory, os.path.realpath(request.repo_root)))
    label = f"plugin {spec.name}"
    try:
        if spec.init:
            await _process.run(
                CommandLine(*spec.init).argv,  # the administrator's argv, not tenant input
                cwd=directory,
                env=env,
                timeout=spec.timeout_s,
                output_limit=spec.output_limit,
            )
        done = await _process.run(
            CommandLine(*spec.generate).argv,
            cwd=directory,
            env=env,
            timeout=spec.timeout_s,
            output_limit=spec.output_limit,
        )
    except _process.ProcessError as err:
        raise RenderError(
            f"{label}: {err.reason}{_process.tail(err.stderr, spec.env.values())}"
        ) from None
    limits = kubeyaml.Limits(max_file_bytes=spec.output_limit)
    # Off the event loop: parsing a big output takes CPU the controller's other work needs.
    return await asyncio.to_thread(kubeyaml.parse_stream, done.stdout, f"{label} output", limits)


def _writable_copy(root: str, copy: str, *, preserve_mode: bool) -> None:
    # Symlinks are copied as links: the jail already refused any that leave the repository.
    shutil.copytree(
        os.path.realpath(root), copy, symlinks=True, ignore=shutil.ignore_patterns(".git"),
        copy_function=_copy_with_mode if preserve_mode else shutil.copyfile,
    )  # fmt: skip
    for current, dirs, _ in os.walk(copy):
        for name in dirs:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
    os.chmod(copy, 0o755)


def _doublestar(pattern: str, rel: str) -> bool:
    """``find.glob`` as Argo CD matches it: ``*`` within a directory, ``**/`` any number."""
    return any(
        globs.match(candidate, rel, separators="/")
        for candidate in {pattern, pattern.replace("**/", "")}
    )


def _copy_with_mode(src: str, dst: str) -> None:
    shutil.copyfile(src, dst)
    shutil.copymode(src, dst)
    os.chmod(dst, os.stat(dst).st_mode | 0o200)  # the checkout is read-only; the copy is not


def _files(directory: str) -> list[str]:
    found: list[str] = []
    for current, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.relpath(os.path.join(current, n), directory) for n in sorted(names))
    return found
