"""Blocks of the family: recurrent."""
