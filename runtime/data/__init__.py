"""Datasets for training: the built-in sets and the user's own files.

:func:`load_dataset` turns a project's ``training.dataset`` object
(``project-format.md``, "Training") into a :class:`Dataset` of NumPy arrays,
already split into training and validation parts; :func:`builtin_catalog`
describes the built-in sets without loading anything; :func:`check_fits` says
in words when a dataset's samples do not fit the network's ``Input``.

One public function per source gives a split :class:`Dataset` from plain
arguments; :func:`load_dataset` calls them once it has checked the settings,
and an exported training script copies them (by these names, with what they
use) so that it reads the same samples and makes the same split:

- :func:`from_csv` (``path, target=None, task=None``): a CSV file, features
  standardised;
- :func:`from_npz` (``path, task=None``): arrays ``X`` and ``y`` of an ``.npz``;
- :func:`from_image_folder` (``path, size=None``): one subfolder per class
  (needs Pillow);
- :func:`builtin` (``name, n=None, target=None, **options``): a built-in set
  (the bundled real ones need scikit-learn).

Each also takes ``seed`` (default 0) and ``val_fraction`` (default 0.2) and
raises :class:`DatasetError` with a message for a person.

Importing this package is cheap (standard library only): numpy, scikit-learn
and Pillow are imported when a dataset is loaded (the functions above are
looked up lazily), so the editor can show the catalogue before torch or numpy
are loaded.
"""

from __future__ import annotations

from pathlib import Path

from .catalog import BuiltinInfo, builtin_catalog
from .dataset import Dataset, DatasetError, SampleShape
from .fit import check_fits

__all__ = ["Dataset", "DatasetError", "BuiltinInfo", "SampleShape", "load_dataset",
           "sample_shape", "builtin_catalog", "check_fits", "from_csv", "from_npz",
           "from_image_folder", "builtin", "READERS"]

#: The public function that reads each source key of a ``training.dataset`` object.
READERS = {"name": "builtin", "csv": "from_csv", "npz": "from_npz",
           "image_folder": "from_image_folder"}
#: The public per-source functions, by the module that defines them: imported
#: on first use (they need numpy), so importing this package stays cheap.
_SOURCES = {"from_csv": "tabular", "from_npz": "npz", "from_image_folder": "images",
            "builtin": "builtin_sets"}


def __getattr__(name: str):
    if name in _SOURCES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_SOURCES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sample_shape(spec: dict, base_dir: Path | None = None) -> SampleShape | None:
    """One sample's shape and dtype of a file dataset, from its header alone: the
    CSV header row, the ``X.npy`` header inside the ``.npz``, the images' headers.

    The editor checks a file against the network's ``Input`` with it before
    Start; the same checks and messages as :func:`load_dataset` apply to what
    is read.

    Returns:
        The shape, or None for a built-in dataset (its catalogue entry knows it).

    Raises:
        DatasetError: the file cannot give samples; the message says why.
    """
    from .loader import sample_shape as read

    return read(spec, base_dir)


def load_dataset(spec: dict, base_dir: Path | None = None, seed: int = 0) -> Dataset:
    """Load the dataset a project names and split it.

    Args:
        spec: the ``training.dataset`` object: ``{"name": BUILTIN, ...options}``,
            ``{"csv": PATH, "target": COLUMN}``, ``{"npz": PATH}`` or
            ``{"image_folder": PATH, "size": [H, W]}``; each may add
            ``"val_fraction"`` (default 0.2) and, for user files, ``"task"``.
        base_dir: the folder relative paths are resolved against (the project
            file's folder); the current directory when None.
        seed: seeds generation and the split: the same seed gives identical arrays.

    Returns:
        The loaded, split and (for tabular features) standardised dataset.

    Raises:
        DatasetError: the spec or a file is bad; the message says what to change.
    """
    from .loader import load

    return load(spec, base_dir, seed)
