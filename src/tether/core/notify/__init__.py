"""Argo CD Notifications' rules: configuration, subscriptions and the de-duplication state."""
