"""The API's routes, one module per Argo CD service (session, account, applications, ...)."""
