"""Code generation: graph → readable PyTorch source → ``nn.Module``; exports; import."""

from .compile import build_model, instantiate, module_class
from .errors import CodegenError
from .source import GeneratedCode, generate

__all__ = ["build_model", "instantiate", "module_class", "CodegenError", "GeneratedCode", "generate"]
