"""The checkpoint files a run's loop writes: ``best.pt`` and ``last.pt``.

A write is atomic (:func:`runtime.checkpoint.save_checkpoint`), so a failed
one (a full disk) leaves the file written before whole; it ends the run with
a ``"save"`` fault that names that last good checkpoint and how to go on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .checkpoint import save_checkpoint
from .faults import Fault
from .loop_faults import FaultStop
from .session import RunState


class RunCheckpoints:
    """Writes a run's checkpoints and remembers what was written.

    Args:
        out_dir: the run folder.
        snapshot: a checkpoint's content now (its argument: stopped inside an epoch).
        state: the run's progress (the epoch and step a fault names).
    """

    def __init__(self, out_dir: Path, snapshot: Callable[[bool], dict], state: RunState):
        self.out_dir = out_dir
        self.snapshot = snapshot
        self.state = state
        self.saved_epoch: int | None = None  # the epoch last.pt holds, once written here
        #: ``"best"``/``"last"`` → the path written (the run result's ``checkpoints``)
        self.paths: dict[str, str] = {}

    def save(self, name: str, partial: bool) -> str:
        """Write ``name`` in the run folder; a failed write ends the run with a ``"save"``
        fault.

        The write is atomic, so the file written before (the last good checkpoint)
        is left whole; the fault says which one that is and how to go on.
        """
        from .errors import CheckpointWriteError

        st = self.state
        try:
            return str(save_checkpoint(self.out_dir / name, self.snapshot(partial)))
        except CheckpointWriteError as exc:
            last = self.out_dir / "last.pt"
            fix = "free some space, then resume from it" if "disk is full" in str(exc) else \
                "resume from it once the folder can be written again"
            if self.saved_epoch is not None:
                kept = (f"the last good checkpoint, {str(last)!r} (epoch {self.saved_epoch}), "
                        f"is kept: {fix}")
            elif self.paths.get("last") or last.is_file():
                kept = f"the checkpoint there before, {str(last)!r}, is kept"
            else:
                kept = "no checkpoint of this run could be kept"
            done = st.epoch if not partial else f"{st.epoch} (and part of epoch {st.epoch + 1})"
            raise FaultStop(Fault("save", f"{exc}; training stopped after epoch {done}; {kept}",
                                  epoch=st.epoch, step=st.step)) from None
