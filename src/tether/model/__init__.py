"""Data types shared by every layer: resources, Applications, statuses and errors."""
