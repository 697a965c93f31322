"""Health of Kubeflow kinds, which Argo CD leaves without checks (tether's own rules)."""

# Status shapes were read from the controllers' sources: kubeflow/dashboard
# components/profile-controller (Profile), kubeflow/notebooks branch notebooks-v1
# (notebook-, tensorboard- and pvcviewer-controller), kubeflow/katib
# pkg/apis/controller/{experiments,trials,suggestions}/v1beta1 and kubeflow/trainer
# pkg/apis/trainer/v1alpha1/trainjob_types.go.

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import Check, Rule, degraded, healthy, progressing, suspended
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus

NOTEBOOK_STOPPED = "kubeflow-resource-stopped"
"""The notebook controller (and its culler) scale a Notebook to zero while this is set."""

KATIB_EXPERIMENT: tuple[tuple[str, HealthStatus], ...] = (
    # Katib keeps one condition per type; the first True one in this order decides.
    ("Failed", HealthStatus.DEGRADED),
    ("Succeeded", HealthStatus.HEALTHY),  # goal reached or max trials run
    ("Restarting", HealthStatus.PROGRESSING),
    ("Running", HealthStatus.PROGRESSING),
    ("Created", HealthStatus.PROGRESSING),
)

KATIB_TRIAL: tuple[tuple[str, HealthStatus], ...] = (
    ("Failed", HealthStatus.DEGRADED),
    ("MetricsUnavailable", HealthStatus.DEGRADED),  # ran, but its objective cannot be read
    ("Killed", HealthStatus.DEGRADED),  # stopped before completing
    ("Succeeded", HealthStatus.HEALTHY),
    ("EarlyStopped", HealthStatus.HEALTHY),  # stopped on purpose by the early-stopping rule
    ("Running", HealthStatus.PROGRESSING),
    ("Created", HealthStatus.PROGRESSING),
)

KATIB_SUGGESTION: tuple[tuple[str, HealthStatus], ...] = (
    ("Failed", HealthStatus.DEGRADED),
    ("Succeeded", HealthStatus.HEALTHY),
    # A suggestion service stays Running for its experiment's whole life: that is its steady state.
    ("Running", HealthStatus.HEALTHY),
    ("Created", HealthStatus.PROGRESSING),
)

TRAIN_JOB: tuple[tuple[str, HealthStatus], ...] = (
    ("Failed", HealthStatus.DEGRADED),
    ("Complete", HealthStatus.HEALTHY),
    ("Suspended", HealthStatus.SUSPENDED),
)

DEPLOYMENT_FAILURE_STATES = frozenset({"ReplicaFailure"})
"""Deployment condition types that Tensorboard and PVCViewer mirror and that mean failure."""


def by_conditions(table: tuple[tuple[str, HealthStatus], ...], waiting: str) -> Check:
    """A check where the first condition type of ``table`` that is True decides."""

    def check(obj: resources.Manifest) -> Health:
        for condition_type, verdict in table:
            entry = resources.condition(obj, condition_type)
            if entry is not None and entry.get("status") == "True":
                message = _read.text(entry, "message") or _read.text(entry, "reason")
                return Health(verdict, message or f"{resources.kind_of(obj)} is {condition_type}")
        return progressing(waiting)

    return check


def profile(obj: resources.Manifest) -> Health:
    """A Profile is Degraded when the controller's latest condition reports a failure.

    The profile controller appends ``{type: Failed, message}`` when it cannot create or adopt the
    user's namespace, and writes nothing on success; a False condition of any type is a failure
    too (older controllers wrote ``Ready``). Upstream writes that condition with a plain update
    while the CRD has a status subresource, so it is dropped and live Profiles read Healthy.
    """
    entries = _read.conditions(obj)
    if not entries:
        return healthy("The profile controller reports no failure")
    latest = entries[-1]
    if latest.get("type") == "Failed" or latest.get("status") == "False":
        return degraded(_read.text(latest, "message") or "Profile reconciliation failed")
    return healthy(_read.text(latest, "message"))


def notebook(obj: resources.Manifest) -> Health:
    """A Notebook is Healthy with a ready server, Suspended when stopped, Degraded if it crashes."""
    if NOTEBOOK_STOPPED in resources.annotations_of(obj):
        return suspended("Notebook is stopped")
    if not _read.has_mapping(obj, "status"):
        return progressing("Waiting for the notebook controller")
    status = resources.status_of(obj)
    waiting = _read.mapping(status, "containerState", "waiting")
    reason = _read.text(waiting, "reason")
    # Same reasons as a Pod's: the server container cannot start.
    if reason.startswith("Err") or reason.endswith(("Error", "BackOff")):
        return degraded(f"{reason}: {_read.text(waiting, 'message')}".rstrip(": "))
    if _read.integer(status, "readyReplicas") >= 1:
        return healthy()
    terminated = _read.mapping(status, "containerState", "terminated")
    if terminated:
        return degraded(f"Notebook server terminated: {_read.text(terminated, 'reason')}")
    return progressing(reason or "Waiting for the notebook server to be ready")


def tensorboard(obj: resources.Manifest) -> Health:
    """A Tensorboard is Healthy with a ready server; its latest deployment state tells failure."""
    status = resources.status_of(obj)
    if _read.integer(status, "readyReplicas") >= 1:
        return healthy()
    states = _read.items(status, "conditions")
    if states and _read.text(states[-1], "deploymentState") in DEPLOYMENT_FAILURE_STATES:
        return degraded("Tensorboard deployment has a ReplicaFailure")
    return progressing("Waiting for the Tensorboard server to be ready")


def pvc_viewer(obj: resources.Manifest) -> Health:
    """A PVCViewer is Healthy when ``status.ready``; mirrored deployment conditions tell failure."""
    status = resources.status_of(obj)
    if _read.flag(status, "ready"):
        return healthy()
    entries = _read.items(status, "conditions")
    if entries:
        latest = entries[-1]
        failing = _read.condition_is(latest, "ReplicaFailure", "True")
        if failing or latest.get("reason") == "ProgressDeadlineExceeded":
            return degraded(_read.text(latest, "message") or _read.text(latest, "reason"))
    return progressing("Waiting for the PVC viewer to be ready")


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("kubeflow.org", "Profile"): Rule(profile, "tether: profile-controller status"),
    GroupKind("kubeflow.org", "Notebook"): Rule(notebook, "tether: notebook-controller status"),
    GroupKind("kubeflow.org", "Experiment"): Rule(
        by_conditions(KATIB_EXPERIMENT, "Waiting for the Katib controller"), "tether: Katib"
    ),
    GroupKind("kubeflow.org", "Trial"): Rule(
        by_conditions(KATIB_TRIAL, "Waiting for the Katib controller"), "tether: Katib"
    ),
    GroupKind("kubeflow.org", "Suggestion"): Rule(
        by_conditions(KATIB_SUGGESTION, "Waiting for the suggestion service"), "tether: Katib"
    ),
    GroupKind("tensorboard.kubeflow.org", "Tensorboard"): Rule(
        tensorboard, "tether: tensorboard-controller status"
    ),
    GroupKind("kubeflow.org", "PVCViewer"): Rule(pvc_viewer, "tether: pvcviewer-controller status"),
    GroupKind("trainer.kubeflow.org", "TrainJob"): Rule(
        by_conditions(TRAIN_JOB, "Waiting for the TrainJob to finish"), "tether: Kubeflow Trainer"
    ),
}
