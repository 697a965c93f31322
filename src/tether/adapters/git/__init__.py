"""The Git adapter: bare mirrors driven by the git CLI."""
