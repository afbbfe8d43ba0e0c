"""Blocks of the family: conv."""
