"""Regenerate the README screenshots (offscreen renders of the real window).

- ``docs/screenshots/editor.png``: the editor with the residual CNN template
  open, laid out to fit the window, a block selected so the inspector and the
  code panel show it;
- ``docs/screenshots/training.png``: the training view mid-run on the MLP
  spirals template (curves filling, paused part-way through), taken from a
  real run in the training process;
- ``docs/screenshots/resnet.png`` and ``gpt.png``: the ResNet-18 and GPT
  templates laid out (top to bottom) and fitted to the window;
- ``docs/screenshots/graph_5000.png``: a 5,000-node network at fit-all (the
  level of detail B6 measures);
- ``docs/screenshots/training_1280x800.png``: a real run of LeNet on the
  digits in a 1280×800 window, the size a laptop gives (canvas, curves and the
  ten-class confusion matrix must all fit; issue 15).

Run: ``python bench/screenshots.py`` (all) or ``--only NAME`` (one of
:data:`SHOTS`); ``--out DIR`` writes elsewhere.  Runs go to a temporary data
folder, so nothing is left behind.  Look at every picture after regenerating it.
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
#: Epochs of the 1280×800 LeNet run (the curves have a shape, the run stays short).
LAPTOP_EPOCHS = 6


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
    window.files.new_from_template(str(TEMPLATES / f"{EDITOR_TEMPLATE}.json"))
    _settle(app)
    window.view.show_network()
    if EDITOR_SELECTED in window.scene.nodes:
        window.reveal_node(EDITOR_SELECTED)
        window.view.show_network()  # the whole network, not the node close up
    _settle(app)
    return _save_and_close(window, out / "editor.png")


def _save_and_close(window, path: Path) -> Path:
    """Save ``window`` as the picture ``path``, then close it without a prompt."""
    window.grab().save(str(path))
    window.doc.undo.setClean()
    window.close()
    return path


def training(app, out: Path) -> Path:
    """The training view part-way through a real run of the spirals MLP."""
    window = _window(app)
    window.files.new_from_template(str(TEMPLATES / f"{TRAINING_TEMPLATE}.json"))
    window.train.show_training()
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


def _template_shot(app, out: Path, template: str, name: str) -> Path:
    """A template opened, laid out and fitted to the window, nothing selected."""
    window = _window(app)
    window.files.new_from_template(str(TEMPLATES / f"{template}.json"))
    _settle(app)
    window.actions["layout"].trigger()
    _settle(app)
    window.view.fit_all()
    _settle(app)
    return _save_and_close(window, out / name)


def resnet(app, out: Path) -> Path:
    """The ResNet-18 template: residual units, skip connections beside the main path."""
    return _template_shot(app, out, "resnet18_digits", "resnet.png")


def gpt(app, out: Path) -> Path:
    """The GPT template: embeddings, transformer units, the head."""
    return _template_shot(app, out, "gpt_next_token", "gpt.png")


def graph_5000(app, out: Path) -> Path:
    """A 5,000-node network (the B6 network) at fit-all: the level of detail."""
    sys.path.insert(0, str(ROOT / "bench"))
    from canvas_scale import network

    from graph.project import Project
    from gui.document import Document

    window = _window(app)
    window.set_document(Document(Project("5,000 nodes", network(5000), {}, {}, None)))
    _settle(app, 0.5)
    window.view.fit_all()
    _settle(app)
    return _save_and_close(window, out / "graph_5000.png")


def training_1280(app, out: Path) -> Path:
    """A real run of LeNet on the digits in a 1280×800 window, confusion matrix beside."""
    window = _window(app)
    window.resize(1280, 800)
    _settle(app)
    window.files.new_from_template(str(TEMPLATES / "lenet_digits.json"))
    window.doc.project.training["epochs"] = LAPTOP_EPOCHS
    window.train.show_training()
    area = window.training
    _settle(app)
    window.actions["layout"].trigger()
    _wait(app, lambda: "cpu" in [area.settings.device.itemText(i)
                                 for i in range(area.settings.device.count())], 60, "torch")
    window.actions["train_start"].trigger()
    if not area.running:
        raise RuntimeError(f"the run did not start: {area.message.text()}")
    _wait(app, lambda: not area.running, 300, "the run")
    area.view.plots.flush()
    window.view.fit_all()
    _settle(app, 0.5)
    path = out / "training_1280x800.png"
    window.grab().save(str(path))
    area.view.tabs.setCurrentIndex(area.view.tabs.indexOf(area.view.confusion.parentWidget()))
    _settle(app, 0.3)
    confusion = out / "training_1280x800_confusion.png"
    window.grab().save(str(confusion))
    print(f"wrote {confusion}")
    window.doc.undo.setClean()
    window.close()
    return path


#: Each picture's name (for ``--only``) and the function that takes it.
SHOTS = {"editor": editor, "training": training, "resnet": resnet, "gpt": gpt,
         "graph_5000": graph_5000, "training_1280": training_1280}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=tuple(SHOTS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    for name, fn in SHOTS.items():
        if args.only in (None, name):
            print(f"wrote {fn(app, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
