"""The loop's index of the AppProject each app names, as its last reconcile read it.

An AppProject change re-compares that project's apps. Finding them by decoding every
Application in the cache cost the event loop about 0.2-0.9 s per change at S9's 10,100 apps
(a decode of each 2.6 KB manifest); this index answers in the project's own apps.
"""

from __future__ import annotations

from tether.controller.desired import AppKey
from tether.model.project import DEFAULT_PROJECT_NAME


class ProjectIndex:
    """Apps by the project their spec names (an app is filed under one project at a time)."""

    def __init__(self) -> None:
        self._project_of: dict[AppKey, str] = {}
        self._apps: dict[str, set[AppKey]] = {}

    def remember(self, app: AppKey, project: str) -> None:
        """File ``app`` under ``project`` ("" names the default), moving it from its last."""
        project = project or DEFAULT_PROJECT_NAME
        before = self._project_of.get(app)
        if before == project:
            return
        if before is not None:
            self.forget(app)
        self._project_of[app] = project
        self._apps.setdefault(project, set()).add(app)

    def forget(self, app: AppKey) -> None:
        """Drop ``app`` (it was deleted)."""
        project = self._project_of.pop(app, None)
        if project is None:
            return
        apps = self._apps.get(project)
        if apps is not None:
            apps.discard(app)
            if not apps:
                del self._apps[project]

    def apps_of(self, project: str) -> tuple[AppKey, ...]:
        """The apps that named ``project`` when last reconciled, in a stable order."""
        return tuple(sorted(self._apps.get(project, ())))
