"""Running sync operations, split as fluxcd's ssa manager is: one module per job.

``runner`` owns an operation's life (start, advance, retry, finish, persist); ``writer`` carries
out the writes the core's state machine asks for and remembers what it wrote. The pure half of a
sync lives in ``tether.core.sync``.
"""
