"""Every fixture in tests/fixtures/health is judged as its name says.

A fixture is named ``<kind>-<status>-<branch>.yaml``; ``status`` is a health status in lower case,
or ``none`` for kinds without health. An optional ``# message: ...`` header pins the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tether.core import health
from tether.model.status import HealthStatus

FIXTURES = Path(__file__).parents[3] / "fixtures" / "health"
STATUSES = {status.value.lower(): status for status in HealthStatus}


def _fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.yaml"))


def _header(text: str, key: str) -> str | None:
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        label, _, value = line[1:].strip().partition(": ")
        if label == key:
            return value
    return None


def test_there_is_a_fixture_for_every_status_and_for_no_health():
    seen = {path.stem.split("-")[1] for path in _fixtures()}
    assert seen == set(STATUSES) - {"missing"} | {"none"}


@pytest.mark.parametrize("path", _fixtures(), ids=lambda path: path.stem)
def test_each_golden_fixture_is_judged_as_its_name_says(path: Path):
    text = path.read_text()
    expected = path.stem.split("-")[1]
    verdict = health.assess(yaml.safe_load(text))
    assert (_header(text, "Expected health") or "").split(" ")[0].lower() == expected
    if expected == "none":
        assert verdict is None
        return
    assert verdict is not None
    assert verdict.status is STATUSES[expected]
    message = _header(text, "message")
    if message is not None:
        assert verdict.message == message
