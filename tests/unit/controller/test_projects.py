"""The loop's index of each app's AppProject: which apps an AppProject change concerns."""

from __future__ import annotations

from tether.controller.projects import ProjectIndex


def test_a_projects_apps_are_the_ones_that_named_it_when_last_reconciled():
    index = ProjectIndex()
    index.remember(("tether", "b"), "team")
    index.remember(("tether", "a"), "team")
    index.remember(("tether", "c"), "other")
    assert index.apps_of("team") == (("tether", "a"), ("tether", "b"))
    assert index.apps_of("nobody") == ()


def test_an_app_without_a_project_is_filed_under_the_default():
    index = ProjectIndex()
    index.remember(("tether", "a"), "")
    assert index.apps_of("default") == (("tether", "a"),)


def test_an_app_that_moves_to_another_project_leaves_the_first():
    index = ProjectIndex()
    index.remember(("tether", "a"), "team")
    index.remember(("tether", "a"), "other")
    assert index.apps_of("team") == ()
    assert index.apps_of("other") == (("tether", "a"),)


def test_a_forgotten_app_is_in_no_project():
    index = ProjectIndex()
    index.remember(("tether", "a"), "team")
    index.forget(("tether", "a"))
    index.forget(("tether", "never-seen"))
    assert index.apps_of("team") == ()
