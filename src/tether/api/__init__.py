"""The API server entry point."""
