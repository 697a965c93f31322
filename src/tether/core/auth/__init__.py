"""Who is calling and what they may do: identities, RBAC policy, token and login rules (pure)."""
