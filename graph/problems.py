"""Problems found by validation, their fixed list of codes, and graph errors.

Every problem is attached to a node (and a port where one applies); only an
empty graph's problems have no node, as there is none.  The codes
are a closed list so tools and tests can rely on them; the message is for a
person and names the shapes involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"


class Code:
    """The fixed list of problem codes."""

    CYCLE = "cycle"
    UNCONNECTED = "unconnected_input"
    EXTRA_EDGE = "extra_edge"
    BAD_EDGE = "bad_edge"
    NO_INPUT = "no_input"
    NO_OUTPUT = "no_output"
    UNREACHABLE = "unreachable"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_PARAM = "unknown_param"
    PARAM = "bad_param"
    RANK = "rank_mismatch"
    SIZE = "size_mismatch"
    BROADCAST = "broadcast"
    CONCAT = "concat_mismatch"
    WINDOW = "window_too_large"
    ZERO_SIZE = "zero_size"
    GROUPS = "groups"
    HEADS = "heads"
    DTYPE = "dtype_mismatch"
    SYMBOLIC = "needs_fixed_size"
    RESHAPE = "reshape"
    SOFTMAX_LOSS = "softmax_before_loss"
    SATURATING = "saturating_stack"
    LARGE_MODEL = "large_model"
    #: the project file cannot be loaded (only ``check --json`` reports it as a problem)
    UNREADABLE = "unreadable_file"
    TRAINING = "bad_training"
    LOSS_INPUT = "loss_input"
    TOO_LARGE = "too_large_for_memory"
    BAD_NAME = "bad_name"
    #: the chosen dataset does not fit an Input or Output (graph.dataset_checks)
    DATASET = "dataset_mismatch"

    @classmethod
    def all(cls) -> frozenset[str]:
        return frozenset(v for k, v in vars(cls).items() if k.isupper())


@dataclass(frozen=True)
class Problem:
    """One error or warning.

    ``node`` is the id of the node it is attached to; it is None for the
    problems of a graph without any node (an empty network has no Input and
    no Output, and there is nothing else to point at) and for most problems
    of the ``training`` section.  ``location`` says where in the project file
    a problem of the training section is (``"training.optimizer.lr"``; its
    message starts with it); it is None for the network's own problems.
    """

    severity: str
    code: str
    node: str | None
    message: str
    port: str | None = None
    #: A quick fix the editor can offer, e.g. ``{"kind": "insert", "type": "Flatten"}``.
    fix: dict | None = field(default=None, compare=False)
    location: str | None = None

    def to_json(self) -> dict:
        out = {"severity": self.severity, "node": self.node, "port": self.port,
               "code": self.code, "message": self.message}
        if self.location is not None:
            out["location"] = self.location
        return out


class ShapeError(Exception):
    """Raised by a block's shape rule; becomes a :class:`Problem` on the node.

    Args:
        code: one of :class:`Code`.
        message: what is wrong, naming the shapes (without the node's name:
            the validator prefixes ``Type "name": ``).
        port: the input port concerned, if any.
        fix: an optional quick-fix description for the editor.
    """

    def __init__(self, code: str, message: str, port: str | None = None,
                 fix: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.port = port
        self.fix = fix


class ParamError(ValueError):
    """A parameter value is of the wrong type or out of range."""


class GraphEditError(ValueError):
    """An edit the graph refuses (a cycle, a second edge into a single port, ...).

    The message is the reason, ready to show to the user.
    """
