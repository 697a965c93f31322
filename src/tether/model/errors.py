"""tether's error hierarchy. Messages name the object, the file and the reason; never a secret."""

from __future__ import annotations


class TetherError(Exception):
    """Base of every error tether reports to a user."""


class InvalidInputError(TetherError):
    """Input that tether refuses: bad YAML, an unknown option, a path out of bounds."""


class RenderError(TetherError):
    """Rendering an Application's sources failed."""


class GitError(TetherError):
    """A Git operation failed: unreachable server, unknown revision, refused credentials."""


class ClusterError(TetherError):
    """The Kubernetes API refused or failed a request."""


class ToolBuildError(TetherError):
    """A control-plane component or CLI could not be built."""


class DevClusterError(TetherError):
    """The local control plane could not start, or is not running."""
