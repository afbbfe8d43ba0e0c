"""Regenerate the README screenshots (offscreen renders of the real window).

- ``docs/screenshots/editor.png``: the editor with the residual CNN template
  open, laid out to fit the window, a block selected so the inspector and the
  code panel show it;
- ``docs/screenshots/training.png``: the training view mid-run on the MLP
  spirals template (curves filling, paused part-way through), taken from a
  real run in the training process.

Run: ``python bench/screenshots.py`` (both) or ``--only editor|training``;
``--out DIR`` writes elsewhere.  Runs go to a temporary data folder, so
nothing is left behind.  Look at both pictures after regenerating them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETCANVAS_NO_AUTOSAVE_PROMPT", "1")
os.environ.setdefault("NETCANVAS_DATA_DIR", tempfile.mkdtemp(prefix="netcanvas-shots-"))
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SIZE = (1500, 900)
TEMPLATES = ROOT / "resources" / "templates"
EDITOR_TEMPLATE = "resnet_digits"
EDITOR_SELECTED = "b1c2"  # a convolution: the inspector shows a full set of parameters
TRAINING_TEMPLATE = "mlp_spirals"
#: Epochs after which the training picture is taken (of the template's 50).
MID_RUN = 18


def _settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _wait(app, cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.01)


def _window(app):
    from gui.app import apply_theme
    from gui.main_window import MainWindow

    window = MainWindow(dark=apply_theme(app, dark=False))  # the README's pictures are light
    window.resize(*SIZE)
    window.show()
    _settle(app)
    return window


def editor(app, out: Path) -> Path:
    """The editor with the residual CNN template open."""
    window = _window(app)
    window.new_from_template(str(TEMPLATES / f"{EDITOR_TEMPLATE}.json"))
    _settle(app)
    window.view.show_network()
    if EDITOR_SELECTED in window.scene.nodes:
        window.reveal_node(EDITOR_SELECTED)
        window.view.show_network()  # the whole network, not the node close up
    _settle(app)
    path = out / "editor.png"
    window.grab().save(str(path))
    window.doc.undo.setClean()
    window.close()
    return path


def training(app, out: Path) -> Path:
    """The training view part-way through a real run of the spirals MLP."""
    window = _window(app)
    window.new_from_template(str(TEMPLATES / f"{TRAINING_TEMPLATE}.json"))
    window.show_training()
    area = window.training
    dock = window.training_dock
    window.resizeDocks([dock], [int(SIZE[1] * 0.68)], Qt.Orientation.Vertical)
    _settle(app)
    window.actions["layout"].trigger()  # the network laid out again for the smaller canvas
    _wait(app, lambda: "cpu" in [area.settings.device.itemText(i)
                                 for i in range(area.settings.device.count())], 60, "torch")
    window.actions["train_start"].trigger()
    if not area.running:
        raise RuntimeError(f"the run did not start: {area.message.text()}")
    rec = area.record
    _wait(app, lambda: len(rec.history) >= MID_RUN or not area.running, 120, "the run")
    area.pause()
    _wait(app, lambda: not area.running or area.worker.paused, 10, "the pause")
    _settle(app, 0.5)  # the last batches arrive and are drawn
    area.view.tabs.setCurrentIndex(0)
    area.view.plots.flush()
    window.view.fit_all()
    _settle(app)
    path = out / "training.png"
    window.grab().save(str(path))
    area.stop()
    _wait(app, lambda: not area.running, 10, "the stop")
    window.doc.undo.setClean()
    window.close()
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("editor", "training"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    for name, fn in (("editor", editor), ("training", training)):
        if args.only in (None, name):
            print(f"wrote {fn(app, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
