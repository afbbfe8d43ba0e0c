"""Errors of the code generator."""


class CodegenError(Exception):
    """The graph cannot be turned into code (it has errors, or an import failed)."""
