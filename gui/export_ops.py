"""File → Export of the main window: model file, model and training script,
weights from a checkpoint, ONNX, a picture of the graph, a summary table.

The writing is done by :mod:`codegen.export` (the same functions the
``export`` command uses); :class:`ExportController` only asks where to
write and reports the outcome.  torch is reached only through codegen, and only for weights
and ONNX; ONNX says at once, without loading torch, when its extra is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QGraphicsItem, QWidget

from graph import humanize
from graph.analysis import Analyzer, problem_counts
from graph.dims import format_shape

PY_FILTER = "Python files (*.py)"
PICTURE_FILTER = "PNG image (*.png);;SVG image (*.svg)"
CHECKPOINT_FILTER = "Checkpoints and weights (*.pt *.pth *.ckpt *.safetensors);;All files (*)"
WEIGHTS_FILTER = "PyTorch weights (*.pt);;safetensors (*.safetensors)"
NoCache = QGraphicsItem.CacheMode.NoCache
PICTURE_SCALE = 2.0  # pixels per scene unit in PNGs: sharp on high-DPI screens and in print


def summary_text(project, analyzer: Analyzer | None = None) -> str:
    """A plain-text table: name, type, output shape, parameters and FLOPs per
    layer in execution order, then the totals."""
    an = analyzer or Analyzer(project.graph, project.training)
    try:
        an.refresh()
        rows = [("name", "type", "output shape", "parameters", "FLOPs")]
        for nid in an.order():
            node = project.graph.nodes[nid]
            r = an.results.get(nid)
            if r is not None and r.outs is not None:
                shapes = ", ".join(format_shape(tt.shape) for tt in r.outs.values())
                rows.append((node.name, node.type, shapes, f"{r.n_params:,}", f"{r.flops:,}"))
            else:
                rows.append((node.name, node.type, "?", "?", "?"))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [project.name, ""]
        for k, row in enumerate(rows):
            cells = [c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        t = an.totals()
        errors, warnings = problem_counts(an.problems())
        lines += ["", *humanize.summary_totals(t)]
        if errors or warnings:
            lines.append(f"problems: {errors} error(s), {warnings} warning(s)")
        return "\n".join(lines) + "\n"
    finally:
        if analyzer is None:
            an.close()


def render_picture(scene, path: str | Path) -> Path:
    """Draw the whole scene into ``path``: SVG for ``*.svg``, else PNG.

    Raises:
        OSError: the file cannot be written.
    """
    path = Path(path)
    selected = scene.selectedItems()
    scene.clearSelection()  # a picture shows the network, not the selection
    cached = [(i, i.cacheMode()) for i in scene.items() if i.cacheMode() != NoCache]
    for item, _mode in cached:  # cached items would paint as bitmaps, not vector text
        item.setCacheMode(NoCache)
    try:
        source = scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        if path.suffix.lower() == ".svg":
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setFileName(str(path))
            gen.setSize(QSize(int(source.width()), int(source.height())))
            gen.setViewBox(QRectF(0, 0, source.width(), source.height()))
            gen.setTitle("NetCanvas graph")
            painter = QPainter(gen)
            scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
            if not painter.end():
                raise OSError(f"cannot write {path}")
        else:
            size = QSize(int(source.width() * PICTURE_SCALE), int(source.height() * PICTURE_SCALE))
            image = QImage(size, QImage.Format.Format_ARGB32)
            image.fill(scene.backgroundBrush().color())
            painter = QPainter(image)
            painter.setRenderHints(QPainter.RenderHint.Antialiasing
                                   | QPainter.RenderHint.TextAntialiasing)
            scene.render(painter, QRectF(image.rect()), source)
            painter.end()
            if not image.save(str(path), "PNG"):
                raise OSError(f"cannot write {path}")
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
        for item in selected:
            item.setSelected(True)
    return path


class ExportController:
    """File → Export: asks where to write, writes through :mod:`codegen.export`, reports.

    Args:
        parent: the window dialogs belong to.
        feedback: where the outcome is said.
        view: the canvas (a picture shows its scene).
        last_dir: where a file dialog starts for a document never saved.
    """

    def __init__(self, parent: QWidget, feedback, view, last_dir: Callable[[], str]):
        self.parent = parent
        self.feedback = feedback
        self.view = view
        self.last_dir = last_dir
        self.doc = None

    def bind(self, doc) -> None:
        """Export ``doc`` (nothing to listen to: every export reads it when asked)."""
        self.doc = doc

    def _ask_save(self, title: str, suffix: str, filter_: str) -> str:
        start = Path(self.doc.path).with_suffix(suffix) if self.doc.path else \
            Path(self.last_dir()) / f"{_file_stem(self.doc.name)}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self.parent, title, str(start), filter_)
        return path

    def _generate(self):
        """The generated code, or None after telling why there is none."""
        from codegen.errors import CodegenError
        from codegen.source import generate

        p = self.doc.project
        try:
            return generate(p.graph, p.name, p.training)
        except CodegenError as exc:
            self.feedback.show_error("Cannot export",
                                     f"The network cannot be exported yet:\n{exc}")
            return None

    def _write(self, title: str, action) -> bool:
        from codegen.errors import CodegenError

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            text = action()
        except (CodegenError, OSError) as exc:
            self.feedback.show_error(title, str(exc))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.feedback.done(text)
        return True

    # ------------------------------------------------------------ actions
    def export_model(self) -> bool:
        path = self._ask_save("Export model", ".py", PY_FILTER)
        if not path:
            return False

        def write():
            from codegen.export import write_model
            p = self.doc.project
            code = write_model(p.graph, path, p.name, p.training)
            return f"Exported {path} (class {code.class_name})"
        return self._write("Cannot export the model", write)

    def export_script(self) -> bool:
        path = self._ask_save("Export model and training script", ".py", PY_FILTER)
        if not path:
            return False

        def write():
            from codegen.export import write_model, write_training_script
            p = self.doc.project
            code = write_model(p.graph, path, p.name, p.training)
            script = write_training_script(p.graph, code, path, p.training,
                                           project_dir=Path(p.path).parent if p.path else None)
            return f"Exported {path} and {script}"
        return self._write("Cannot export the training script", write)

    def export_weights(self) -> bool:
        loaded = self.doc.weights  # Runs → Load weights
        ckpt = str(loaded.path) if loaded is not None else None
        if not ckpt:
            ckpt, _ = QFileDialog.getOpenFileName(self.parent,
                                                  "Checkpoint to take the weights from",
                                                  self.last_dir(), CHECKPOINT_FILTER)
        if not ckpt:
            return False
        path = self._ask_save("Save weights as", ".pt", WEIGHTS_FILTER)
        if not path:
            return False
        code = self._generate()
        if code is None:
            return False

        def write():
            from codegen.compile import instantiate
            from codegen.export import load_into, load_weights, save_weights

            if loaded is not None and loaded.partial:
                model = _pretrained_start(code, self.doc.project, ckpt)
            else:
                model = instantiate(code)
                load_into(model, load_weights(ckpt), ckpt)
            return f"Exported weights to {save_weights(model, path)}"
        return self._write("Cannot export the weights", write)

    def export_onnx(self) -> bool:
        from codegen.export import ONNX_MISSING

        if importlib.util.find_spec("onnx") is None:
            self.feedback.show_error("ONNX export is not available", ONNX_MISSING)
            return False
        path = self._ask_save("Export ONNX", ".onnx", "ONNX models (*.onnx)")
        if not path:
            return False
        code = self._generate()
        if code is None:
            return False

        def write():
            from codegen.compile import instantiate
            from codegen.export import export_onnx

            p = self.doc.project
            return f"Exported {export_onnx(instantiate(code), p.graph, code, path)}"
        return self._write("Cannot export ONNX", write)

    def export_picture(self) -> bool:
        path = self._ask_save("Export picture", ".png", PICTURE_FILTER)
        if not path:
            return False
        if Path(path).suffix.lower() not in (".png", ".svg"):
            path += ".png"
        return self._write("Cannot export the picture",
                           lambda: f"Exported {render_picture(self.view.scene(), path)}")

    def export_summary(self) -> bool:
        path = self._ask_save("Export model summary", ".txt", "Text files (*.txt)")
        if not path:
            return False

        def write():
            text = summary_text(self.doc.project, self.doc.analyzer)
            Path(path).write_text(text, encoding="utf-8")
            return f"Exported {path}"
        return self._write("Cannot export the summary", write)


def _pretrained_start(code, project, ckpt: str):
    """The model the next Start trains from after Train → Load Pretrained
    Weights…: the file's tensors in the blocks whose names and shapes match,
    the others initialised as that run initialises them (so the export is not
    refused for them).

    Raises:
        ExportError: the training section or the checkpoint cannot be used
            (what the next Start would refuse with).
    """
    from codegen.export import ExportError
    from runtime.config import parse_training
    from runtime.errors import TrainingError
    from runtime.weight_transfer import pretrained_start

    try:
        seed = parse_training(project.training, graph=project.graph).seed
        return pretrained_start(code, seed, ckpt)[0]
    except TrainingError as exc:
        raise ExportError(str(exc)) from None


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem.lower() or "network"
