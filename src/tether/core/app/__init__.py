"""Decisions about whole Applications: when to refresh, when to sync, what a project permits.

``refresh`` and ``autosync`` decide the controller's next move for an app; ``policy`` enforces
AppProjects; ``tree`` links live objects by ownership; ``crds`` describes tether's own CRDs.
"""
