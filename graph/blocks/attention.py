"""Blocks of the family: attention."""
