"""Blocks of the family: norm."""
