"""Change review (``tether preview``): the apps a change affects, what it does, reports."""
