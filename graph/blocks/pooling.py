"""Blocks of the family: pooling."""
