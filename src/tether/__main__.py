"""Run the CLI as ``python -m tether``."""

from tether.cli.main import main

main()
