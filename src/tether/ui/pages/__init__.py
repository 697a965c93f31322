"""The UI's pages, one module per page (each with its fragments)."""
