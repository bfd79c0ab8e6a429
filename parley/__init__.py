"""Parley: a voice sparring partner for product designers."""

__version__ = "0.1.0"
