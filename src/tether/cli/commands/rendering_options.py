"""The options of every process that renders (``tether run``, ``tether repo-server``), once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tether.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--allow-local-repos",
        is_flag=True,
        help="Allow file:// and local paths as repoURL (tests and demos only).",
    ),
    click.option(
        "--remote-host",
        "remote_hosts",
        multiple=True,
        help="A host (glob) that remote references inside repositories may name: kustomize "
        "remote bases, helm value files by URL (repeatable; none by default).",
    ),
    click.option(
        "--plugin-dir",
        "plugin_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        help="A directory of Argo CD ConfigManagementPlugin files (*.yaml), re-read when they "
        "change: the plugins sources may name (repeatable; none by default).",
    ),
    click.option("--cache-dir", default=None, help="Git mirrors and rendered charts."),
    click.option(
        "--git-trees-kept",
        type=click.IntRange(min=0),
        default=Settings.git_trees_kept,
        show_default=True,
        help="Checked-out commits kept on disk; older idle ones are deleted every 10 minutes.",
    ),
    click.option(
        "--charts-kept",
        type=click.IntRange(min=0),
        default=Settings.charts_kept,
        show_default=True,
        help="Pulled chart versions kept on disk; older idle ones are deleted every 10 minutes.",
    ),
    click.option(
        "--render-cache-mib",
        type=click.IntRange(min=1),
        default=Settings.render_cache_mib,
        show_default=True,
        help="Rendered manifests kept in memory, in MiB of JSON; least recently used leave first.",
    ),
    click.option(
        "--render-cache-disk-mib",
        type=click.IntRange(min=0),
        default=Settings.render_cache_disk_mib,
        show_default=True,
        help="Rendered manifests kept on disk under the cache directory (files 0600: they may "
        "hold Secret values), for restarts and replicas sharing it; 0 keeps none.",
    ),
)


def rendering_options(command: F) -> F:
    """Add the rendering options; the command takes them as keyword arguments."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def apply(
    settings: Settings,
    *,
    allow_local_repos: bool,
    remote_hosts: tuple[str, ...],
    plugin_dirs: tuple[str, ...],
    cache_dir: str | None,
    git_trees_kept: int,
    charts_kept: int,
    render_cache_mib: int,
    render_cache_disk_mib: int,
) -> Settings:
    """``settings`` with the rendering options' values."""
    settings = dataclasses.replace(
        settings,
        allow_local_repos=allow_local_repos,
        remote_hosts=remote_hosts,
        plugin_dirs=tuple(plugin_dirs),
        git_trees_kept=git_trees_kept,
        charts_kept=charts_kept,
        render_cache_mib=render_cache_mib,
        render_cache_disk_mib=render_cache_disk_mib,
    )
    if cache_dir:
        settings = dataclasses.replace(settings, cache_dir=cache_dir)
    return settings
