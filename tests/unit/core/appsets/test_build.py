"""A rendered template as the Application a set owns, and the checks that skip it."""

from __future__ import annotations

from typing import Any

from tether.core.appsets import build

SET: dict[str, Any] = {
    "metadata": {"name": "fleet", "namespace": "argocd", "uid": "u-1"},
    "spec": {"syncPolicy": {"preserveResourcesOnDeletion": True}},
}


def rendered(name: str = "guestbook", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, **meta},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://example.com/r.git", "path": "p"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
        },
    }


def test_a_generated_app_is_owned_by_the_set_and_in_its_namespace() -> None:
    wanted = build.application_of(
        SET,
        rendered(finalizers=["resources-finalizer.argocd.argoproj.io"], labels={"a": "b"}),
        others=[],
        projects=["default"],
    )
    assert wanted.invalid == ""
    meta = wanted.manifest["metadata"]
    assert meta["namespace"] == "argocd"
    assert meta["ownerReferences"][0]["uid"] == "u-1"
    assert "finalizers" not in meta  # preserveResourcesOnDeletion
    assert build.is_owned_by(wanted.manifest, "u-1")
    assert not build.is_owned_by(wanted.manifest, "u-2")


def test_invalid_apps_say_why_and_are_never_fatal() -> None:
    def why(r: dict[str, Any], others: list[str] = [], projects: list[str] = ["default"]) -> str:  # noqa: B006
        return build.application_of(SET, r, others=others, projects=projects).invalid

    assert why(rendered("")) == "a generated Application has an empty name"
    assert "project 'default' does not exist" in why(rendered(), projects=[])
    assert "is not this ApplicationSet's" in why(rendered(), others=["guestbook"])
    assert "must be in the set's namespace" in why(rendered(namespace="elsewhere"))
    assert "name is not a DNS subdomain" in why(rendered("Bad_Name"))


def test_notification_subscriptions_are_never_claimed_by_the_set() -> None:
    r = rendered(annotations={"notifications.argoproj.io/subscribe.x.y": "z", "keep": "1"})
    wanted = build.application_of(SET, r, others=[], projects=["default"])
    assert wanted.manifest["metadata"]["annotations"] == {"keep": "1"}


def test_a_template_patch_merges_but_never_changes_the_project() -> None:
    patch = {"spec": {"project": "other", "source": {"path": None, "targetRevision": "v2"}}}
    patched = build.with_patch(rendered(), patch)
    assert patched["spec"]["project"] == "default"
    assert patched["spec"]["source"] == {
        "repoURL": "https://example.com/r.git",
        "targetRevision": "v2",
    }


def test_ignored_fields_keep_their_live_values() -> None:
    appset = {"spec": {"ignoreApplicationDifferences": [{"jsonPointers": ["/spec/syncPolicy"]}]}}
    pointers = build.ignored_pointers(appset, "guestbook")
    live: dict[str, Any] = {"spec": {"syncPolicy": {"automated": {}}}}
    kept = build.keep_live(rendered(), live, pointers)
    assert kept["spec"]["syncPolicy"] == {"automated": {}}
