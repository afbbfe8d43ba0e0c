"""Blocks of the family: activation."""
