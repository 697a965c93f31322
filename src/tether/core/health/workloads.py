"""Health of the workload kinds: Deployment, StatefulSet, DaemonSet, ReplicaSet and Pod.

Rules follow Argo CD's gitops-engine Go checks (``health/health_*.go``), branch for branch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.core.health import _hooks, _read
from tether.core.health._rule import (
    V1,
    Rule,
    degraded,
    healthy,
    progressing,
    suspended,
    unknown,
)
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health

IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"
"""Lets a run-to-completion pod be judged like a long-running one (never honoured on hooks)."""


def deployment(obj: resources.Manifest) -> Health:
    """A paused Deployment is Suspended; otherwise it is Healthy once the rollout is done."""
    spec, status = resources.spec_of(obj), resources.status_of(obj)
    if _read.flag(spec, "paused"):
        return suspended("Deployment is paused")
    if _read.generation(obj) > _read.integer(status, "observedGeneration"):
        return progressing("Waiting for rollout: the controller has not seen the latest spec yet")
    wanted = _read.optional_int(spec, "replicas")
    updated = _read.integer(status, "updatedReplicas")
    current = _read.integer(status, "replicas")
    available = _read.integer(status, "availableReplicas")
    progress = resources.condition(obj, "Progressing")
    if progress is not None and progress.get("reason") == "ProgressDeadlineExceeded":
        return degraded(f"Deployment {resources.name_of(obj)!r} exceeded its progress deadline")
    if wanted is not None and updated < wanted:
        return progressing(f"Waiting for rollout: {updated} of {wanted} replicas updated")
    if current > updated:
        return progressing(f"Waiting for rollout: {current - updated} old replicas still running")
    if available < updated:
        return progressing(
            f"Waiting for rollout: {available} of {updated} updated replicas available"
        )
    return healthy()


def _partition_target(spec: Mapping[str, Any]) -> int | None:
    """Replicas that a partitioned rolling update must update, when both numbers are set."""
    wanted = _read.optional_int(spec, "replicas")
    partition = _read.optional_int(spec, "updateStrategy", "rollingUpdate", "partition")
    if wanted is None or partition is None:
        return None
    return wanted - partition


def statefulset(obj: resources.Manifest) -> Health:
    """A StatefulSet is Healthy when every replica is ready and the update has rolled out."""
    spec, status = resources.spec_of(obj), resources.status_of(obj)
    observed = _read.integer(status, "observedGeneration")
    if observed == 0 or _read.generation(obj) > observed:
        return progressing("Waiting for the controller to observe the StatefulSet spec")
    wanted = _read.optional_int(spec, "replicas")
    ready = _read.integer(status, "readyReplicas")
    if wanted is not None and ready < wanted:
        return progressing(f"Waiting for {wanted - ready} pods to be ready")
    strategy = _read.text(spec, "updateStrategy", "type")
    updated = _read.integer(status, "updatedReplicas")
    if strategy == "RollingUpdate" and _read.has_mapping(spec, "updateStrategy", "rollingUpdate"):
        # Argo CD does not compare revisions here; the API server defaults ``partition: 0``, so
        # live objects normally take this branch.
        target = _partition_target(spec)
        if target is not None and updated < target:
            return progressing(
                f"Waiting for partitioned rollout: {updated} of {target} pods updated"
            )
        return healthy(f"Partitioned rollout complete: {updated} pods updated")
    if strategy == "OnDelete":
        return healthy(f"StatefulSet has {ready} ready pods")
    revision = _read.text(status, "updateRevision")
    if revision != _read.text(status, "currentRevision"):
        return progressing(f"Waiting for rolling update: {updated} pods at revision {revision}")
    current = _read.integer(status, "currentReplicas")
    return healthy(f"Rolling update complete: {current} pods at revision {revision}")


def daemonset(obj: resources.Manifest) -> Health:
    """A DaemonSet is Healthy when its pods are updated and available on every node."""
    spec, status = resources.spec_of(obj), resources.status_of(obj)
    if _read.generation(obj) > _read.integer(status, "observedGeneration"):
        return progressing("Waiting for rollout: the controller has not seen the latest spec yet")
    desired = _read.integer(status, "desiredNumberScheduled")
    updated = _read.integer(status, "updatedNumberScheduled")
    if _read.text(spec, "updateStrategy", "type") == "OnDelete":
        return healthy(f"{updated} of {desired} pods updated (OnDelete)")
    if updated < desired:
        return progressing(f"Waiting for rollout: {updated} of {desired} pods updated")
    available = _read.integer(status, "numberAvailable")
    if available < desired:
        return progressing(f"Waiting for rollout: {available} of {desired} updated pods available")
    return healthy()


def replicaset(obj: resources.Manifest) -> Health:
    """A ReplicaSet is Degraded on ReplicaFailure, Progressing until its replicas are available."""
    spec, status = resources.spec_of(obj), resources.status_of(obj)
    if _read.generation(obj) > _read.integer(status, "observedGeneration"):
        return progressing("Waiting for rollout: the controller has not seen the latest spec yet")
    failure = resources.condition(obj, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return degraded(_read.text(failure, "message"))
    wanted = _read.optional_int(spec, "replicas")
    available = _read.integer(status, "availableReplicas")
    if wanted is not None and available < wanted:
        return progressing(f"Waiting for rollout: {available} of {wanted} replicas available")
    return healthy()


def _is_failing_wait(reason: str) -> bool:
    """Waiting reasons that mean the container cannot start (ErrImagePull, CrashLoopBackOff...)."""
    return reason.startswith("Err") or reason.endswith(("Error", "BackOff"))


def _terminated_message(container: Mapping[str, Any]) -> str:
    """Why a terminated container failed: its message, OOMKilled, or its exit code."""
    terminated = _read.mapping(container, "state", "terminated")
    if not terminated:
        return ""
    if message := _read.text(terminated, "message"):
        return message
    if _read.text(terminated, "reason") == "OOMKilled":
        return "OOMKilled"
    if code := _read.integer(terminated, "exitCode"):
        return f"container {_read.text(container, 'name')!r} failed with exit code {code}"
    return ""


def _failed_pod(status: Mapping[str, Any]) -> Health:
    """A failed pod's best explanation: the pod message, else the first failed container's."""
    if message := _read.text(status, "message"):
        return degraded(message)
    containers = _read.items(status, "initContainerStatuses") + _read.items(
        status, "containerStatuses"
    )
    for container in containers:
        if message := _terminated_message(container):
            return degraded(message)
    return degraded()


def _running_pod(obj: resources.Manifest, long_running: bool) -> Health:
    """A running pod: long-running ones are Healthy when Ready; run-to-completion ones progress."""
    status = resources.status_of(obj)
    message = _read.text(status, "message")
    policy = _read.text(resources.spec_of(obj), "restartPolicy")
    if long_running:
        if _read.has_condition(obj, "Ready"):
            return healthy(message)
        restarted = any(
            _read.has_mapping(container, "lastState", "terminated")
            for container in _read.items(status, "containerStatuses")
        )
        return degraded(message) if restarted else progressing(message)
    if policy in ("OnFailure", "Never"):
        # Finite pods are typically hooks; they are judged by completion, not readiness.
        return progressing(message)
    return unknown(message)


def pod(obj: resources.Manifest) -> Health:
    """A Pod by phase; long-running pods are Degraded as soon as a container cannot start."""
    status = resources.status_of(obj)
    ignores_policy = resources.annotation(obj, IGNORE_RESTART_POLICY) == "true"
    policy = _read.text(resources.spec_of(obj), "restartPolicy")
    long_running = policy == "Always" or (ignores_policy and not _hooks.is_hook(obj))
    if long_running:
        # A hook pod stuck in ImagePullBackOff must not fail its hook early: long-running only.
        stuck = [
            _read.text(container, "state", "waiting", "message")
            for container in _read.items(status, "containerStatuses")
            if _is_failing_wait(_read.text(container, "state", "waiting", "reason"))
        ]
        if stuck:
            return degraded(", ".join(stuck))
    phase = _read.text(status, "phase")
    message = _read.text(status, "message")
    if phase == "Pending":
        return progressing(message)
    if phase == "Succeeded":
        return healthy(message)
    if phase == "Failed":
        return _failed_pod(status)
    if phase == "Running":
        return _running_pod(obj, long_running)
    return unknown(message)


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("apps", "Deployment"): Rule(deployment, "Argo CD Go check", V1),
    GroupKind("apps", "StatefulSet"): Rule(statefulset, "Argo CD Go check", V1),
    GroupKind("apps", "DaemonSet"): Rule(daemonset, "Argo CD Go check", V1),
    GroupKind("apps", "ReplicaSet"): Rule(replicaset, "Argo CD Go check", V1),
    GroupKind("", "Pod"): Rule(pod, "Argo CD Go check", V1),
}
