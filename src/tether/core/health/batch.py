"""Health of the batch kinds: Job (Argo CD's Go check) and CronJob (Argo CD's bundled Lua)."""

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import V1, Rule, degraded, healthy, progressing, suspended
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health


def job(obj: resources.Manifest) -> Health:
    """A Job progresses until it completes, fails or is suspended."""
    failed = complete = is_suspended = False
    message = failure = ""
    for entry in _read.conditions(obj):
        # Argo CD reads the Failed and Complete condition types whatever their status.
        kind = entry.get("type")
        if kind == "Failed":
            failed = complete = True
            failure = _read.text(entry, "message")
        elif kind == "Complete":
            complete = True
            message = _read.text(entry, "message")
        elif kind == "Suspended":
            complete = True
            message = _read.text(entry, "message")
            is_suspended = is_suspended or entry.get("status") == "True"
    if not complete:
        return progressing(message)
    if failed:
        return degraded(failure)
    if is_suspended:
        return suspended(message)
    return healthy(message)


def cronjob(obj: resources.Manifest) -> Health:
    """A CronJob is Degraded only when its last scheduled run did not succeed."""
    if _read.flag(resources.spec_of(obj), "suspend"):
        # Deliberately Healthy, not Suspended: a paused schedule is a normal state (argo-cd #24428).
        return healthy("CronJob is suspended")
    if not _read.has_mapping(obj, "status"):
        return progressing("Waiting for the CronJob controller")
    status = resources.status_of(obj)
    scheduled = _read.text(status, "lastScheduleTime")
    if not scheduled:
        # Nothing in the status says whether a schedule was missed, so an unscheduled CronJob is
        # assumed fine.
        return healthy("CronJob has not been scheduled yet")
    succeeded = _read.text(status, "lastSuccessfulTime")
    if not succeeded:
        return healthy("CronJob has never completed successfully; it may be failing")
    if _read.count(status, "active") > 0:
        return healthy("A job is running; its last run may not have succeeded")
    # RFC 3339 UTC timestamps compare correctly as strings, as Argo CD's Lua compares them.
    if succeeded < scheduled:
        return degraded("CronJob's last scheduled run did not complete successfully")
    return healthy("CronJob's last run completed successfully")


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("batch", "Job"): Rule(job, "Argo CD Go check", V1),
    GroupKind("batch", "CronJob"): Rule(cronjob, "Argo CD bundled Lua (batch/CronJob)"),
}
