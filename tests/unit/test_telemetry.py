"""The tallies behind Argo CD's request metrics: by app from the context, repos without secrets."""

from __future__ import annotations

from tether.bootstrap import telemetry


def test_a_request_counts_for_the_app_acted_for_and_none_outside():
    tally = telemetry.Telemetry()
    observe = tally.kube_observer("https://kubernetes.default.svc")
    with telemetry.acting_for("apps", "guestbook"):
        telemetry.project_is("team")
        observe("apply", 200, "ConfigMap", "web", False)
    observe("watch", 200, "ConfigMap", "", False)
    server = "https://kubernetes.default.svc"
    assert tally.k8s_requests() == {
        ("apps", "guestbook", "team", server, "200", "apply", "ConfigMap", "web", "false"): 1,
        ("", "", "", server, "200", "watch", "ConfigMap", "", "false"): 1,
    }


def test_git_requests_are_labelled_by_the_url_without_credentials():
    tally = telemetry.Telemetry()
    tally.observe_git("https://user:token@git.example/r.git", "fetch", 0.3)
    tally.observe_git("https://git.example/r.git", "fetch", 30.0)
    ((key, histogram),) = tally.git_requests().items()
    assert key == ("https://git.example/r.git", "fetch")
    assert histogram.count == 2
    assert histogram.buckets == [0, 0, 1, 1, 1, 1, 1, 1]


def test_the_app_acted_for_is_known_inside_and_none_outside():
    assert telemetry.acting_app() is None
    with telemetry.acting_for("apps", "guestbook"):
        assert telemetry.acting_app() == ("apps", "guestbook")
    assert telemetry.acting_app() is None
