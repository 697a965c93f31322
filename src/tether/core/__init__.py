"""The functional core: pure, synchronous decisions with no I/O and no clock."""
