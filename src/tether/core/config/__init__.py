"""System-wide configuration as Argo CD keeps it: ``argocd-cm``, ``argocd-cmd-params-cm``, parsed.

Pure: the ConfigMaps' ``data`` come in, one frozen :class:`~tether.core.config.system.SystemConfig`
and the warnings naming every unknown or unsupported key go out (``system.parse``); which keys
tether knows, and what each does, is the table in ``keys``.
"""
