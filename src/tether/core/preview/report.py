"""A preview as text (a terminal), JSON (tools) or Markdown (a pull-request comment).

Colour is not decided here: text goes through a ``Style`` the caller gives (the CLI colours
only a terminal). Every diff in a ``Preview`` is already masked (``changes.object_diff``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tether.core.preview.changes import AppPreview, ObjectChange, Outcome, Preview

Style = Callable[[str, str], str]
"""``style(text, role)``: the text as shown for ``role`` (``added``, ``removed``, ``hunk``,
``title``, ``failed``)."""

MARKDOWN_LIMIT = 65_536 - 2_048
"""GitHub refuses comments over 65,536 characters; the margin leaves room for what a CI job
adds around the report (a header, a marker to find its own comment again)."""

TRUNCATED = (
    "\n_The report was cut here to fit a comment ({shown} of {total} apps shown in detail); "
    "run `tether preview` locally for the rest._\n"
)
DIFF_LEFT_OUT = "_The diff was left out to fit a comment; run `tether preview` locally._\n"
UNCHANGED_MAX_NAMES = 200
"""Unchanged and skipped apps listed by name up to this many; past it only their count."""


def plain(text: str, role: str) -> str:
    """No styling."""
    del role
    return text


def _line_role(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "title"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    if line.startswith("@@"):
        return "hunk"
    return ""


def _styled_diff(text: str, style: Style) -> list[str]:
    return [style(line, role) if (role := _line_role(line)) else line for line in text.splitlines()]


def _count(app: AppPreview) -> str:
    added, removed, changed = app.counts
    return f"+{added} -{removed} ~{changed}"


def _shown(app: AppPreview) -> bool:
    """Whether an app has something to show: a change, a failure, a difference with the cluster."""
    changed = app.outcome in (Outcome.CHANGED, Outcome.FAILED)
    return changed or bool(app.cluster or app.cluster_error)


def _quiet(preview: Preview) -> list[str]:
    """Names of the apps with nothing to show, unchanged and skipped."""
    return [a.app for a in preview.apps if not _shown(a)]


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:UNCHANGED_MAX_NAMES])
    more = len(names) - UNCHANGED_MAX_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def text(preview: Preview, style: Style = plain) -> str:
    """The preview for a terminal: per changed or failed app its objects and diffs."""
    lines = [
        f"base {preview.base[:12]}  head {preview.head[:12]}  "
        f"{preview.changed_files} file(s) changed"
    ]
    for app in preview.apps:
        if app.outcome is Outcome.FAILED:
            lines.append(style(f"✗ {app.app}: failed to render at head", "failed"))
            lines.append(f"  {app.error}")
            lines.extend(f"  note: {note}" for note in app.notes)
        elif app.outcome is Outcome.CHANGED:
            lines.append(style(f"● {app.app}  {_count(app)}", "title"))
            lines.extend(f"  note: {note}" for note in app.notes)
            lines.extend(style(f"  + {key}", "added") for key in app.added)
            lines.extend(style(f"  - {key}", "removed") for key in app.removed)
            lines.extend(f"  ~ {change.key}" for change in app.changed)
            for change in (*app.changed, *app.added_diffs, *app.removed_diffs):
                lines.extend(_styled_diff(change.diff, style))
        lines.extend(_cluster_lines(app, style))
    quiet = _quiet(preview)
    if quiet:
        lines.append(f"unchanged ({len(quiet)}): {_names(quiet)}")
    if not any(a.outcome in (Outcome.CHANGED, Outcome.FAILED) for a in preview.apps):
        lines.append("no app is affected by this change")
    return "\n".join(lines) + "\n"


def _cluster_lines(app: AppPreview, style: Style) -> list[str]:
    if app.cluster_error:
        return [style(f"  against the cluster: {app.cluster_error}", "failed")]
    if app.cluster is None:
        return []
    if not app.cluster:
        return [f"  against the cluster ({app.app}): no difference"]
    title = style(f"  against the cluster ({app.app}):", "title")
    return [title, *_styled_diff(app.cluster, style)]


def _cluster_markdown(app: AppPreview) -> str:
    if app.cluster_error:
        return f"\n**Against the cluster:** {_md_escape(app.cluster_error)}\n"
    if app.cluster is None:
        return ""
    if not app.cluster:
        return "\n**Against the cluster:** no difference.\n"
    return "\n**Against the cluster:**\n\n" + _fence(app.cluster)


def _change(change: ObjectChange) -> dict[str, Any]:
    key = change.key
    return {
        "group": key.group,
        "kind": key.kind,
        "namespace": key.namespace,
        "name": key.name,
        "diff": change.diff,
    }


def as_json(preview: Preview) -> dict[str, Any]:
    """The preview as a JSON document (``-o json``)."""
    return {
        "base": preview.base,
        "head": preview.head,
        "changedFiles": preview.changed_files,
        "failed": preview.failed,
        "apps": [
            {
                "app": app.app,
                "outcome": str(app.outcome),
                "error": app.error,
                "notes": list(app.notes),
                "added": [_change(c) for c in app.added_diffs],
                "removed": [_change(c) for c in app.removed_diffs],
                "changed": [_change(c) for c in app.changed],
                **({"cluster": app.cluster} if app.cluster is not None else {}),
                **({"clusterError": app.cluster_error} if app.cluster_error else {}),
            }
            for app in preview.apps
        ],
    }


def _fence(body: str) -> str:
    # A diff holding a fence of its own must not close ours: use a longer one.
    fence = "```"
    while fence in body:
        fence += "`"
    return f"{fence}diff\n{body.rstrip()}\n{fence}\n"


def _md_escape(value: str) -> str:
    return value.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _section(app: AppPreview, *, diffs: bool = True) -> str:
    name = _md_escape(app.app)
    if app.outcome is Outcome.FAILED:
        parts = [f"<details><summary>❌ <b>{name}</b>: failed to render at head</summary>\n\n"]
        parts.append(_fence(app.error))
    else:
        parts = [f"<details><summary><b>{name}</b> {_count(app)}</summary>\n\n"]
        for key in app.added:
            parts.append(f"- added `{key}`\n")
        for key in app.removed:
            parts.append(f"- removed `{key}`\n")
        for change in app.changed:
            parts.append(f"- changed `{change.key}`\n")
        parts.append("\n")
        text = "".join(c.diff for c in (*app.changed, *app.added_diffs, *app.removed_diffs))
        if text and diffs:
            parts.append(_fence(text))
        elif text:
            parts.append(DIFF_LEFT_OUT)
    parts.extend(f"\n_note: {_md_escape(note)}_\n" for note in app.notes)
    if diffs:
        parts.append(_cluster_markdown(app))
    parts.append("\n</details>\n")
    return "".join(parts)


def markdown(preview: Preview, limit: int = MARKDOWN_LIMIT) -> str:
    """The preview for a pull-request comment, cut with a note before ``limit`` characters.

    A summary table first, then one collapsed section per changed or failed app.
    """
    shown = [a for a in preview.apps if _shown(a)]
    head = [
        f"### tether preview: `{preview.base[:12]}` → `{preview.head[:12]}`\n\n",
    ]
    if shown:
        head.append("| App | Result | Added | Removed | Changed |\n|---|---|---:|---:|---:|\n")
        for app in shown:
            added, removed, changed = app.counts
            result = "❌ failed" if app.outcome is Outcome.FAILED else str(app.outcome)
            head.append(f"| {_md_escape(app.app)} | {result} | {added} | {removed} | {changed} |\n")
    else:
        head.append("No app is affected by this change.\n")
    quiet = _quiet(preview)
    if quiet:
        head.append(f"\nUnchanged ({len(quiet)}): {_md_escape(_names(quiet))}\n")
    out = "".join(head) + "\n"
    for index, app in enumerate(shown):
        note = TRUNCATED.format(shown=index, total=len(shown))
        # The whole section, else its list of objects without the diff, else stop here.
        for section in (_section(app), _section(app, diffs=False)):
            if len(out) + len(section) + len(note) <= limit:
                out += section
                break
        else:
            return out[: max(0, limit - len(note))] + note
    return out
