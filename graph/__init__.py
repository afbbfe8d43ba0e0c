"""The network as data: blocks, graph, shapes, validation, project files.

Plain Python on networkx: imports neither Qt nor torch.
"""

from . import blocks
from .analysis import Analyzer, NodeResult, analyze, shape_json
from .blocks import TT
from .dataset_info import ArrayInfo, DatasetInfo, TargetInfo
from .graph import Edge, Graph, Node
from .problems import ERROR, WARNING, Code, GraphEditError, Problem, ShapeError
from .units import UnitDef

__all__ = ["blocks", "Analyzer", "NodeResult", "analyze", "shape_json", "TT", "Edge",
           "Graph", "Node", "ERROR", "WARNING", "Code", "GraphEditError", "Problem",
           "ShapeError", "UnitDef", "DatasetInfo", "ArrayInfo", "TargetInfo"]
