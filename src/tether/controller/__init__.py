"""The controller entry point: continuous reconciliation of Applications."""
