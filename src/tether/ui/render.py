"""Rendering pages and fragments from the package's Jinja2 templates.

Autoescaping is on for every template: tenant input (names, labels, messages, manifests) only
ever reaches a page as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from tether.ui import look

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
BUNDLE = STATIC / "dist" / "ui.js"
"""Built by ``make ui`` from ``web/`` (npm, pinned by ``web/package-lock.json``); not committed."""

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.globals.update(health=look.health, sync=look.sync, operation=look.operation)


def html(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered for ``request`` (a whole page, or a fragment for htmx)."""
    values.setdefault("bundle_built", BUNDLE.is_file())
    body = ENVIRONMENT.get_template(template).render(request=request, **values)
    return HTMLResponse(body, status_code=status_code)
