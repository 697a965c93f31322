"""tether: GitOps continuous delivery for Kubernetes that speaks Argo CD's Application API."""

__version__ = "0.1.0"
