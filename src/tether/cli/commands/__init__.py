"""The CLI subcommands, one module per noun."""
