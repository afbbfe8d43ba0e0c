"""The template gallery (File → New from template…).

Lists the projects in ``resources/templates/*.json`` (other files there, such
as notes, are ignored) with a picture of each network, its description, its
dataset and its parameter count.  The picture is the canvas scene itself
rendered offscreen into a pixmap (no torch involved), cached per file and
modification time.  Choosing a template opens a fresh copy of it as a new,
untitled document: the template file is never the document's path.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QVBoxLayout, QWidget)

from graph.project import Project, ProjectLoadError, load_project

from .canvas.layout import layered_positions, needs_layout
from .canvas.style import NODE_WIDTH, canvas_background, human_count
from .document import Document

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "resources" / "templates"
PATH_ROLE = Qt.ItemDataRole.UserRole
PREVIEW = QSize(560, 300)

_previews: dict[tuple[str, float, bool], QPixmap] = {}


@dataclass
class TemplateInfo:
    """What the gallery shows of one template file."""

    path: Path
    name: str
    description: str
    dataset: str
    params: int | None
    error: str | None = None


def dataset_text(training: dict) -> str:
    """A short description of a project's dataset (``digits``, ``CSV data.csv``)."""
    ds = (training or {}).get("dataset") or {}
    if "name" in ds:
        return str(ds["name"])
    for key, label in (("csv", "CSV"), ("npz", "NPZ"), ("image_folder", "images")):
        if key in ds:
            return f"{label} {ds[key]}"
    return "none"


def lay_out(project: Project) -> None:
    """Lay the graph out left to right when it has no usable positions."""
    if needs_layout(project.graph):
        for nid, pos in layered_positions(project.graph).items():
            project.graph.move(nid, pos)


def open_template(path: str | Path) -> Project:
    """A fresh, untitled copy of a template (its name kept, no file path).

    Raises:
        ProjectLoadError: the template is not a valid project.
        OSError: it cannot be read.
    """
    project = load_project(path)
    project.path = None
    lay_out(project)
    return project


def strips(scene, aspect: float, max_strips: int = 4) -> list[QRectF]:
    """Cut a wide scene into pieces, at gaps between node columns, that stacked
    vertically come closest to ``aspect`` (width / height): a long chain
    wraps like a line of text instead of shrinking to a thread."""
    whole = scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
    lefts = sorted({round(n.pos().x()) for n in scene.nodes.values()})
    gaps = [b - 12 for a, b in zip(lefts, lefts[1:]) if b > a + NODE_WIDTH]
    best: list[QRectF] = [whole]
    best_err = abs(math.log(whole.width() / whole.height() / aspect))
    for k in range(2, max_strips + 1):
        cuts = []
        for i in range(1, k):
            want = whole.left() + i * whole.width() / k
            if gaps:
                cuts.append(min(gaps, key=lambda g: abs(g - want)))
        edges = [whole.left()] + sorted(set(cuts)) + [whole.right()]
        pieces = [QRectF(a, whole.top(), b - a, whole.height()) for a, b in zip(edges, edges[1:])]
        width = max(p.width() for p in pieces)
        err = abs(math.log(width / (len(pieces) * whole.height()) / aspect))
        if err < best_err:
            best, best_err = pieces, err
    return best


def render_preview(project: Project, size: QSize = PREVIEW, dark: bool = False) -> QPixmap:
    """Draw the project's network into a pixmap, as the canvas shows it
    (wrapped into strips when it is long, see :func:`strips`)."""
    from .canvas.scene import CanvasScene  # the scene module is heavy; the gallery is not

    lay_out(project)
    doc = Document(project)
    scene = CanvasScene(doc, dark)
    pixmap = QPixmap(size)
    pixmap.fill(canvas_background(dark))
    try:
        if scene.nodes:
            pieces = strips(scene, size.width() / size.height())
            width = max(p.width() for p in pieces)
            height = sum(p.height() for p in pieces)
            scale = min(size.width() / width, size.height() / height)
            painter = QPainter(pixmap)
            painter.setRenderHints(QPainter.RenderHint.Antialiasing
                                   | QPainter.RenderHint.TextAntialiasing)
            x0 = (size.width() - width * scale) / 2
            y = (size.height() - height * scale) / 2
            for k, piece in enumerate(pieces):
                target = QRectF(x0, y, piece.width() * scale, piece.height() * scale)
                scene.render(painter, target, piece, Qt.AspectRatioMode.IgnoreAspectRatio)
                if k:
                    painter.setPen(QPen(QColor(128, 128, 128, 90), 1, Qt.PenStyle.DashLine))
                    painter.drawLine(QPointF(0, y), QPointF(size.width(), y))
                y += piece.height() * scale
            painter.end()
    finally:
        scene.close()
        doc.close()
    return pixmap


def read_info(path: Path) -> tuple[TemplateInfo, Project | None]:
    """Name, description, dataset and parameter count of one template file."""
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
        project = load_project(path)
    except (OSError, ValueError, ProjectLoadError) as exc:
        return TemplateInfo(path, path.stem, "", "", None, str(exc)), None
    from graph.analysis import Analyzer

    an = Analyzer(project.graph, project.training).refresh()
    try:
        params = an.totals()["params"]
    finally:
        an.close()
    info = TemplateInfo(path, str(head.get("name") or path.stem),
                        str(head.get("description") or ""), dataset_text(project.training), params)
    return info, project


def preview(path: Path, project: Project | None, dark: bool = False) -> QPixmap:
    """The cached preview of a template file (rendered on first use)."""
    key = (str(path), path.stat().st_mtime if path.exists() else 0.0, dark)
    if key not in _previews:
        if project is None:
            pm = QPixmap(PREVIEW)
            pm.fill(QColor(128, 128, 128))
            return pm
        _previews[key] = render_preview(project, PREVIEW, dark)
    return _previews[key]


#: The gallery's order: the order a course meets these networks in. Files not
#: named here follow, by file name.
COURSE_ORDER = ("mlp_sine", "mlp_spirals", "lenet_digits", "resnet_digits", "resnet18_digits",
                "depthwise_digits",
                "lstm_adding", "bigru_majority", "transformer_majority", "gpt_next_token",
                "autoencoder_digits", "bert_masked_tokens", "bert_finetune_period")


def list_templates(folder: Path = TEMPLATES_DIR) -> list[Path]:
    """The template files (``*.json``) of a folder in :data:`COURSE_ORDER`
    (MLPs, CNNs, residual, depthwise, recurrent, Transformer, GPT, autoencoder)."""
    rank = {stem: i for i, stem in enumerate(COURSE_ORDER)}
    return sorted((p for p in folder.glob("*.json") if p.is_file()),
                  key=lambda p: (rank.get(p.stem, len(rank)), p.name))


class TemplateGallery(QDialog):
    """Pick a template: a list with thumbnails, a large preview and details.

    Signals:
        chosen(str): the path of the template to open (on Create or double-click).
    """

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None, folder: Path = TEMPLATES_DIR,
                 dark: bool = False):
        super().__init__(parent)
        self.setWindowTitle("New from template")
        self.dark = dark
        self.infos: list[TemplateInfo] = []
        self.list = QListWidget()
        self.list.setIconSize(QSize(112, 60))
        self.list.setWordWrap(True)
        self.list.setMinimumWidth(360)
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(PREVIEW)
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.description = QLabel(wordWrap=True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.facts = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        detail = QVBoxLayout()
        for w in (self.picture, self.title, self.facts, self.description):
            detail.addWidget(w)
        detail.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list)
        body.addLayout(detail, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(body)
        outer.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self._load(folder)
        self.resize(980, 560)

    def _load(self, folder: Path) -> None:
        for path in list_templates(folder):
            info, project = read_info(path)
            self.infos.append(info)
            item = QListWidgetItem(info.name)
            item.setData(PATH_ROLE, str(path))
            if info.error:
                item.setToolTip(f"This template cannot be opened: {info.error}")
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            else:
                pm = preview(path, project, self.dark)
                item.setIcon(QIcon(pm))
                item.setToolTip(info.description)
            self.list.addItem(item)
        first = next((k for k, i in enumerate(self.infos) if not i.error), -1)
        self.list.setCurrentRow(first)
        self.create_button.setEnabled(first >= 0)

    def _show(self, row: int) -> None:
        if row < 0 or row >= len(self.infos):
            return
        info = self.infos[row]
        self.title.setText(info.name)
        if info.error:
            self.picture.clear()
            self.description.setText(f"This template cannot be opened: {info.error}")
            self.facts.setText("")
            self.create_button.setEnabled(False)
            return
        self.picture.setPixmap(preview(info.path, None, self.dark).scaled(
            PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        self.facts.setText(f"Dataset: <b>{info.dataset}</b> &nbsp;·&nbsp; "
                           f"Parameters: <b>{info.params:,}</b> ({human_count(info.params)})")
        self.description.setText(info.description)
        self.create_button.setEnabled(True)

    def current_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def accept(self) -> None:
        path = self.current_path()
        if path is None or self.infos[self.list.currentRow()].error:
            return
        super().accept()
        self.chosen.emit(path)
