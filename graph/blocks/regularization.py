"""Blocks of the family: regularization."""
