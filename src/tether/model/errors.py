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


class KubeApiError(ClusterError):
    """The API server answered with an error status.

    Attributes:
        code: The HTTP status code.
        reason: The ``Status.reason`` (``NotFound``, ``Conflict``, ``Invalid``, ...).
    """

    def __init__(self, message: str, *, code: int, reason: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class NotFoundError(KubeApiError):
    """404: the object, or its type, does not exist."""


class ConflictError(KubeApiError):
    """409: a stale resourceVersion, an existing name, or an apply conflict without force."""


class ForbiddenError(KubeApiError):
    """403 (or 401): RBAC or admission refused the request."""


class InvalidError(KubeApiError):
    """422: validation failed."""


class GoneError(KubeApiError):
    """410: the resourceVersion or continue token is too old; re-list."""


class NotLeaderError(ClusterError):
    """A write refused because this replica no longer holds the controller's Lease (fencing)."""


class EvaluationError(TetherError):
    """A user's expression or template failed: it did not compile, failed or ran too long."""


class DeliveryError(TetherError):
    """A notification was not delivered; ``retryable`` when trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ToolBuildError(TetherError):
    """A control-plane component or CLI could not be built."""


class DevClusterError(TetherError):
    """The local control plane could not start, or is not running."""


class RemoteError(TetherError):
    """A tether API server refused or failed a request, or could not be reached.

    Attributes:
        code: The gRPC status code of the server's error body (0 when there was none).
        status: The HTTP status (0 when no answer came).
    """

    def __init__(self, message: str, *, code: int = 0, status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class IdentityProviderError(TetherError):
    """An OIDC issuer could not be reached or answered something unusable (never a token)."""
