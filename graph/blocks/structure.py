"""Blocks of the family: structure."""
