"""The API's accounts, sessions, tokens and RBAC, over Argo CD's settings objects."""
