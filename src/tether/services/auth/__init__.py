"""The API's accounts, sessions, tokens, RBAC settings and SSO, over Argo CD's settings objects."""
