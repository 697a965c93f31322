"""Notifications wired for a controller: the evaluator, the senders, the configuration watch.

``argocd-notifications-cm`` is watched like Argo CD's other ConfigMaps; the Secret is read when
the live cache says it changed (the cache watches the control-plane namespace's Secrets).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from tether import ports
from tether.adapters import goevaluator, notifyhttp, notifymail
from tether.adapters.devcluster import tools
from tether.bootstrap import Runtime
from tether.core.config import system
from tether.core.notify import config as notifyconfig
from tether.core.notify.config import NotificationConfig
from tether.model import application, project, secretdata
from tether.model.errors import InvalidInputError, TetherError
from tether.model.resources import ResourceKey
from tether.services.argoconfig import ConfigMaps
from tether.services.notifications import AppKey, Counts, Notifier
from tether.services.notifydelivery import Deliveries

log = logging.getLogger(__name__)

GOEVAL = "tether-goeval"


class Notifications:
    """The notifier of one controller replica and everything it holds open."""

    def __init__(
        self,
        rt: Runtime,
        owns: Callable[[AppKey], bool],
        *,
        counts: Counts | None = None,
        evaluator: ports.Evaluator | None = None,
        waits: tuple[float, ...] | None = None,
    ) -> None:
        self._rt = rt
        self.evaluator = evaluator or go_evaluator()
        http = notifyhttp.HttpSender()
        self._senders: dict[str, ports.Sender] = {
            "webhook": http,
            "slack": http,
            "github": http,
            "email": notifymail.SmtpSender(),
        }
        deliveries = (
            Deliveries(self.evaluator, self._senders)
            if waits is None
            else Deliveries(self.evaluator, self._senders, waits=waits)
        )
        namespace = rt.settings.control_plane_namespace
        self.config = ConfigMaps[NotificationConfig](
            rt.cluster,
            namespace,
            names=(notifyconfig.CONFIG_MAP,),
            parse=_parse,
            default=notifyconfig.EMPTY,
        )
        self.notifier = Notifier(
            deliveries=deliveries,
            evaluator=self.evaluator,
            apps=rt.apps,
            read=self._read_app,
            read_project=self._read_project,
            owns=owns,
            clock=rt.clock,
            counts=counts,
        )
        self.config.subscribe(self._configured)

    async def start(self) -> None:
        """Read the configuration and the Secret, then follow the ConfigMap."""
        self._configured(await self.config.load())
        await self.reload_secret()
        self.config.start()

    async def reload_secret(self) -> None:
        """Read ``argocd-notifications-secret`` again (gone: no secrets)."""
        namespace = self._rt.settings.control_plane_namespace
        try:
            obj = await self._rt.cluster.get("v1", "Secret", notifyconfig.SECRET, namespace)
            self.notifier.secret = (
                secretdata.fields_of(obj, "notifications") if obj is not None else {}
            )
        except (TetherError, InvalidInputError) as err:
            log.warning("cannot read Secret %s/%s: %s", namespace, notifyconfig.SECRET, err)

    async def aclose(self) -> None:
        """Stop the watch, the evaluator and the senders' connections."""
        await self.config.stop()
        await self.evaluator.aclose()
        for sender in set(self._senders.values()):
            await sender.aclose()

    def _configured(self, config: NotificationConfig) -> None:
        self.notifier.configure(config)

    def _read_app(self, key: AppKey) -> Mapping[str, Any] | None:
        return self._rt.live.manifest(ResourceKey(application.GROUP, application.KIND, *key))

    def _read_project(self, name: str) -> Mapping[str, Any] | None:
        namespace = self._rt.settings.control_plane_namespace
        return self._rt.live.manifest(
            ResourceKey(project.GROUP_KIND.group, project.KIND, namespace, name)
        )


def _parse(data: system.ConfigData) -> NotificationConfig:
    return notifyconfig.parse(data.get(notifyconfig.CONFIG_MAP) or {})


def go_evaluator() -> goevaluator.GoEvaluator:
    """A ``tether-goeval`` worker (started at its first use), as notifications and sets use it."""
    return goevaluator.GoEvaluator(lambda: tools.path_of(GOEVAL))
