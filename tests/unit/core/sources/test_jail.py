"""The path jail: tenant paths resolved, symlinks followed, and nothing outside the repository."""

from __future__ import annotations

import posixpath

import pytest

from tether.core.sources import jail
from tether.model.errors import InvalidInputError


def fake_realpath(links: dict[str, str]):
    def realpath(path: str) -> str:
        path = posixpath.normpath(path)
        for link, target in links.items():
            if path == link or path.startswith(link + "/"):
                return posixpath.normpath(target + path[len(link) :])
        return path

    return realpath


@pytest.mark.parametrize(
    "path",
    ["../../other-repo/secret.yaml", "../../../../etc/passwd", "a/../../../x", "a/b/../../../../x"],
)
def test_paths_that_escape_the_repository_are_refused(path):
    with pytest.raises(InvalidInputError, match="escapes the repository root"):
        jail.resolve_in_repo(
            "/repo", path, base="/repo/app", field="valueFiles", realpath=fake_realpath({})
        )


def test_relative_paths_may_reach_other_directories_of_the_same_repository():
    resolved = jail.resolve_in_repo(
        "/repo", "../other-app/values.yaml", base="/repo/app", field="f", realpath=fake_realpath({})
    )
    assert resolved == "/repo/other-app/values.yaml"


def test_absolute_paths_are_repository_relative():
    resolved = jail.resolve_in_repo("/repo", "/etc/passwd", field="f", realpath=fake_realpath({}))
    assert resolved == "/repo/etc/passwd"


def test_a_symlink_out_of_the_repository_is_refused():
    realpath = fake_realpath({"/repo/app/link": "/etc"})
    with pytest.raises(InvalidInputError, match="escapes"):
        jail.resolve_in_repo("/repo", "link/passwd", base="/repo/app", field="f", realpath=realpath)


def test_a_symlink_inside_the_repository_is_fine():
    realpath = fake_realpath({"/repo/app/shared": "/repo/shared"})
    resolved = jail.resolve_in_repo(
        "/repo", "shared/v.yaml", base="/repo/app", field="f", realpath=realpath
    )
    assert resolved == "/repo/shared/v.yaml"


def test_a_sibling_with_the_root_as_prefix_is_outside():
    assert not jail.is_inside("/repo", "/repo-other/x")
    assert jail.is_inside("/repo", "/repo")


def test_a_nul_byte_is_refused():
    with pytest.raises(InvalidInputError, match="NUL"):
        jail.resolve_in_repo("/repo", "a\x00b", field="f", realpath=fake_realpath({}))
