"""Use cases: async orchestration of the core through the ports."""
