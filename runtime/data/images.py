"""A folder of images with one subfolder per class, decoded with Pillow.

Images are resized to ``size`` ``[H, W]`` (when not given, every image must
already have the same size) and kept grayscale when *every* image is grayscale,
RGB otherwise; X is ``(n, C, H, W)`` float32 in [0, 1].  Pillow's
decompression-bomb limit is kept and made strict: an image over
``Image.MAX_IMAGE_PIXELS`` is refused, not merely warned about.  Pillow is an
optional dependency (``pip install pillow``); the message says so when it is
missing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .dataset import Dataset, DatasetError
from .prepare import finish

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
              ".pgm", ".pbm"}
_GRAY_BANDS = {("L",), ("1",), ("I",), ("F",), ("L", "A"), ("I", "A")}


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise DatasetError("reading an image folder needs Pillow, which is not installed; "
                           "install it with `pip install pillow`") from None
    return Image


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")


def _list(folder: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    entries = sorted(p for p in folder.iterdir() if _visible(p))
    if not entries:
        raise DatasetError(f"image folder {folder.name!r} is empty; put the images in one "
                           "subfolder per class (e.g. cats/, dogs/)")
    classes = [p for p in entries if p.is_dir()]
    if not classes:
        raise DatasetError(f"image folder {folder.name!r} has no subfolders; put the images "
                           "in one subfolder per class (e.g. cats/, dogs/)")
    files = []
    for k, c in enumerate(classes):
        imgs = sorted(p for p in c.iterdir()
                      if _visible(p) and p.is_file() and p.suffix.lower() in EXTENSIONS)
        if not imgs:
            raise DatasetError(f"class folder {c.name!r} in {folder.name!r} has no images "
                               f"(looked for {', '.join(sorted(EXTENSIONS))})")
        files += [(p, k) for p in imgs]
    if len(classes) < 2:
        raise DatasetError(f"image folder {folder.name!r} has only one class folder "
                           f"({classes[0].name!r}); a classifier needs at least two")
    return [c.name for c in classes], files


def _open(Image, path: Path, root: Path):
    """Open an image with the decompression-bomb warning turned into a refusal."""
    rel = path.relative_to(root).as_posix()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DatasetError(f"image {rel!r} has more pixels than Pillow's safety limit of "
                           f"{Image.MAX_IMAGE_PIXELS:,}; it is refused as a possible "
                           "decompression bomb (shrink it first)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DatasetError(f"image {rel!r} cannot be read ({_why(exc)}); remove or "
                           "replace it") from None


def _why(exc: Exception) -> str:
    return str(exc).replace(str(Path.cwd()), ".") or type(exc).__name__


def _pixels(Image, im, gray: bool, size: tuple[int, int]) -> np.ndarray:
    H, W = size
    bands = im.getbands()
    if gray and bands[0] in ("I", "F"):
        # 16-bit and float images: Pillow's convert("L") would clip them, so scale here.
        im = im.convert("F" if bands[0] == "F" else "I")
        scale = 1.0 if bands[0] == "F" else (65535.0 if im.getextrema()[1] > 255 else 255.0)
        im = im.resize((W, H), Image.Resampling.BILINEAR)
        return np.clip(np.asarray(im, dtype=np.float32) / scale, 0, 1)[None]
    im = im.convert("L" if gray else "RGB")
    if im.size != (W, H):
        im = im.resize((W, H), Image.Resampling.BILINEAR)
    a = np.asarray(im, dtype=np.float32) / 255.0
    return a[None] if gray else a.transpose(2, 0, 1)


def _headers(Image, folder: Path, files, size: tuple[int, int] | None):
    """``(grayscale?, (H, W))`` from the images' headers alone: cheap, and finds
    bad files before any is decoded."""
    headers = []
    for path, _ in files:
        im = _open(Image, path, folder)
        headers.append((im.size, tuple(im.getbands())))
        im.close()
    gray = all(b in _GRAY_BANDS for _, b in headers)
    if size is None:
        sizes = {s for s, _ in headers}
        if len(sizes) > 1:
            (w1, h1), (w2, h2) = sorted(sizes)[:2]
            raise DatasetError(f"images in {folder.name!r} have different sizes (e.g. "
                               f"{h1}×{w1} and {h2}×{w2}); set \"size\": [H, W] in the "
                               "dataset settings to resize them")
        w, h = sizes.pop()
        size = (h, w)
    return gray, size


def image_sample_shape(folder: Path, size: tuple[int, int] | None) -> tuple[int, int, int]:
    """One sample's shape ``(C, H, W)``, from the images' headers alone."""
    Image = _pil()
    _names, files = _list(folder)
    gray, size = _headers(Image, folder, files, size)
    return (1 if gray else 3, *size)


def from_image_folder(path: str | Path, size: tuple[int, int] | list[int] | None = None, *,
                      seed: int = 0, val_fraction: float = 0.2) -> Dataset:
    """A folder with one subfolder of images per class as a split
    :class:`~runtime.data.Dataset` (public API; needs Pillow).

    Args:
        path: the folder; subfolder names are the class names, in sorted order.
        size: ``[H, W]`` every image is resized to; None: they must all have one size.
        seed: the split's random state.
        val_fraction: the validation part's share, in (0, 1).

    Returns:
        ``X_*`` float32 ``(n, C, H, W)`` in [0, 1] (C = 1 when every image is
        grayscale, else 3); ``y_*`` int64 class indices ``(n,)``.

    Raises:
        DatasetError: Pillow is missing, or the folder or an image cannot be used.
    """
    path = Path(path)
    X, y, names, desc = read_image_folder(path, tuple(size) if size is not None else None)
    return finish(path.name, "classification", X, y, seed=seed, val_fraction=val_fraction,
                  description=desc, num_classes=len(names), class_names=names)


def read_image_folder(folder: Path, size: tuple[int, int] | None):
    """Decode every image of a class-per-subfolder tree.

    Returns:
        ``(X float32 (n, C, H, W), y int64, class_names, description)``.
    """
    Image = _pil()
    class_names, files = _list(folder)
    gray, size = _headers(Image, folder, files, size)
    X = np.empty((len(files), 1 if gray else 3, *size), dtype=np.float32)
    for i, (path, _) in enumerate(files):
        with _open(Image, path, folder) as im:
            try:
                X[i] = _pixels(Image, im, gray, size)
            except (OSError, ValueError, SyntaxError) as exc:
                rel = path.relative_to(folder).as_posix()
                raise DatasetError(f"image {rel!r} cannot be decoded ({_why(exc)}); remove "
                                   "or replace it") from None
    y = np.array([k for _, k in files], dtype=np.int64)
    desc = (f"{folder.name}: {len(files)} {'grayscale' if gray else 'RGB'} images "
            f"{size[0]}×{size[1]} in {len(class_names)} classes")
    return X, y, class_names, desc
