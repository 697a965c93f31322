"""I/O implementations of the ports: the only code that touches the outside world."""
