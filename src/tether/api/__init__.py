"""The API server: Argo CD's REST shapes over tether, with sessions, RBAC, SSO and webhooks.

Applications, projects, repositories, clusters, accounts and Git webhooks. Hosted by ``tether run``
(in the controller's process) or alone by ``tether server``; see ``docs/api.md``.
"""
