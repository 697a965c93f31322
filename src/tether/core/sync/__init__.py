"""Sync as data: the plan, the restartable state machine, and the effects it asks for.

``machine.advance`` is the step function; ``plan`` pairs and orders the tasks (``ordering``,
``hooks``); ``taskops`` decides what each task needs; ``actions`` are the effects a driver
performs, ``results`` the memory a sync keeps, ``options`` Argo CD's sync options, ``backoff``
the retry schedule.
"""
