"""Where the login page sends the browser back to: a path on this server and nowhere else."""

from __future__ import annotations

import pytest

from tether.ui.pages import login


@pytest.mark.parametrize(
    "target",
    ["/applications", "/applications?sync=OutOfSync&view=table", "/settings/projects/a%2Fb", "/"],
)
def test_a_path_on_this_server_is_kept(target: str) -> None:
    assert login.safe_return(target) == target


@pytest.mark.parametrize(
    "target",
    [
        "",
        "//evil.example",
        "//evil.example/applications",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",  # browsers drop the tab: //evil.example
        "/\n/evil.example",
        "/\r/evil.example",
        "/ /evil.example",
        "/\x00/evil.example",
        "applications",
    ],
)
def test_anything_that_could_leave_the_server_becomes_the_applications_page(target: str) -> None:
    assert login.safe_return(target) == "/applications"
