"""The scaling scenario's points and layout, and the linear model fitted to its measurements."""

from __future__ import annotations

import pytest
from bench import report, scaling

TRUE = {
    "seconds": report.Cost(fixed=2.0, per_app=0.02, per_object=0.005, per_extra_cluster=1.5),
    "cpu_s": report.Cost(fixed=1.0, per_app=0.012, per_object=0.004, per_extra_cluster=0.5),
    "rss_mib": report.Cost(fixed=60.0, per_app=0.05, per_object=0.01, per_extra_cluster=8.0),
    "resync_cpu_s": report.Cost(fixed=0.0, per_app=0.001, per_object=0.0002, per_extra_cluster=0),
}


def row(apps: int, objects: int, clusters: int) -> report.ScalingRow:
    values = {name: cost.at(apps, objects, clusters) for name, cost in TRUE.items()}
    return report.ScalingRow(apps=apps, objects=objects, clusters=clusters, **values)


SIZES = [(300, 300, 1), (1000, 1000, 1), (3000, 3000, 1), (100, 100, 1), (100, 1000, 1),
         (100, 5000, 1), (300, 300, 2), (300, 300, 3)]  # fmt: skip


def test_the_fit_recovers_every_cost_of_exactly_linear_measurements() -> None:
    model = report.fit_scaling([row(*size) for size in SIZES])
    for name, cost in TRUE.items():
        fitted = getattr(model, name)
        for term in ("fixed", "per_app", "per_object", "per_extra_cluster"):
            assert getattr(fitted, term) == pytest.approx(getattr(cost, term), abs=1e-6)
    assert model.points == len(SIZES)


def test_the_prediction_at_100000_apps_is_each_cost_at_that_size() -> None:
    model = report.fit_scaling([row(*size) for size in SIZES])
    predicted = report.predict_scaling(model, apps=100_000, objects=100_000, clusters=1)
    assert predicted["seconds"] == pytest.approx(2.0 + 0.025 * 100_000)
    assert predicted["rss_mib"] == pytest.approx(60.0 + 0.06 * 100_000)
    assert set(predicted) == set(report.SCALING_QUANTITIES)


def test_noisy_measurements_fit_the_least_squares_line() -> None:
    rows = [row(*size) for size in SIZES]
    noisy = [
        report.ScalingRow(**{**r.__dict__, "seconds": r.seconds + (1 if i % 2 else -1)})
        for i, r in enumerate(rows)
    ]
    fitted = report.fit_scaling(noisy).seconds
    assert fitted.per_app == pytest.approx(0.02, rel=0.1)


def test_points_that_never_vary_a_term_are_refused() -> None:
    with pytest.raises(ValueError, match="separate"):
        report.fit_scaling([row(a, a, 1) for a in (100, 300, 1000, 3000)])
    with pytest.raises(ValueError, match="cannot fit"):
        report.fit_scaling([row(100, 100, 1), row(300, 3000, 2)])


def test_the_table_has_a_line_per_point_with_cost_per_app() -> None:
    text = report.scaling_table([row(1000, 1000, 1)])
    assert text.splitlines()[2].startswith("| 1,000 | 1,000 | 1 |")
    assert text.count("\n") == 2


def test_each_dimension_has_three_sizes_and_a_shared_point_is_measured_once() -> None:
    points = scaling.points()
    assert len(points) == len(set(points))
    one = [p for p in points if p.objects_per_app == 1 and p.clusters == 1]
    assert len({p.apps for p in one}) >= 3
    assert {p.objects_per_app for p in points} == set(scaling.OBJECTS)
    assert {p.clusters for p in points} == set(scaling.CLUSTERS)


def test_a_spread_fleet_sends_its_apps_round_robin_to_its_clusters() -> None:
    servers = ["https://kubernetes.default.svc", "https://127.0.0.1:1", "https://127.0.0.1:2"]
    fleet = scaling.layout(scaling.Point(apps=6, objects_per_app=1, clusters=2), 4, servers)
    targets = [fleet.application(i, "git://x")["spec"]["destination"] for i in range(4)]
    assert [t["server"] for t in targets] == [servers[0], servers[1]] * 2
    assert {t["namespace"] for t in targets} == {"scaling-4"}
    many = scaling.layout(scaling.Point(apps=3, objects_per_app=10, clusters=1), 0, servers)
    assert many.objects == 30
    assert len(many.object_names(0)) == 10


def test_results_become_rows_and_a_point_without_a_steady_phase_resyncs_for_free() -> None:
    points = {
        "a10-o1-c1": {"apps": 10, "objects": 10, "clusters": 1, "tether_s": 2.0,
                      "controller_cpu_s": 0.5, "peak_rss_mib": 80.0,
                      "resync_cpu_ms_per_app": 1.5},
        "a10-o10-c1": {"apps": 10, "objects": 100, "clusters": 1, "tether_s": 9.0,
                       "controller_cpu_s": 2.0, "peak_rss_mib": 85.0},
    }  # fmt: skip
    first, second = report.scaling_rows(points)
    assert first.resync_cpu_s == pytest.approx(0.015)
    assert (second.objects, second.resync_cpu_s) == (100, 0.0)
