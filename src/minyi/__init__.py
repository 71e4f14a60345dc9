"""Minyi (民意): the platform for citizens' and enterprises' requests to city government."""

__version__ = "0.1.0"
