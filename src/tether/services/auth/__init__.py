"""Authentication use cases: sessions, accounts and SSO, over the ports."""
