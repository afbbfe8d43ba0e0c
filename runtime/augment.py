"""Data augmentation of training batches (``training.augment``, project-format.md).

:func:`augment_batch` changes one batch of training inputs on the device it
lives on, with batched tensor operations only (no loop over samples):

- image inputs (``N×C×H×W`` floats): random ``translate`` (up to that many
  pixels each way), ``rotate`` (up to that many degrees either way),
  ``scale`` (a zoom factor drawn from ``[LO, HI]``), ``crop_pad`` (a random
  crop of the image padded with that many zero pixels, i.e. a whole-pixel
  shift with zero fill) and ``hflip`` (a mirror image half of the time) are
  one affine map per sample, applied by one ``affine_grid`` + ``grid_sample``
  over the whole batch (bilinear, zeros outside the image); then ``noise``;
- other float inputs: ``noise`` (Gaussian, that standard deviation);
- token inputs (integers): ``token_dropout`` replaces each token by token 0
  (the padding/unknown token) with that probability.

Each key applies only to the inputs of its kind; :func:`augment_problem`
refuses a key that fits none of a network's inputs, so a setting is never
silently without effect.  The draws come from a generator of their own
(:func:`augment_generator`, seeded from the run's seed) on the training
device, so a seeded run is reproducible and shuffling draws the same
permutations with augmentation on or off.  The engine changes several
batches per call (:class:`EpochAugment`: the cost is per call, not per
sample, on small images), reseeding the generator for each chunk from
(seed, epoch, chunk), so a run resumed inside an epoch draws exactly what
the uninterrupted run drew; the generator's state is kept in checkpoints
too.  Validation batches are
never augmented.  The exported training script copies :func:`augment_batch`
and :func:`augment_generator` verbatim (:mod:`codegen.bundle`), so it
augments exactly as the app does.

:func:`preview_samples` gives a few augmented training samples for the
settings panel's strip (as NumPy arrays), computed by this same function.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# One rule for ``check``, the Problems panel and the engine: a key that fits
# none of the inputs (graph/ decides, without torch).
from graph.training_check import GEOMETRIC_KEYS, augment_problem  # noqa: F401

#: Added to the run's seed for the augmentation's own generator, so that its
#: draws are not the shuffling generator's (which starts from the seed itself).
AUGMENT_SEED_OFFSET = 0x5A17


def augment_generator(seed: int, device) -> torch.Generator:
    """The generator augmentation draws from: on ``device``, seeded from the run's seed.

    Args:
        seed: the run's seed (``training.seed``).
        device: the training device (a name or ``torch.device``).
    """
    gen = torch.Generator(device=device)
    gen.manual_seed((int(seed) + AUGMENT_SEED_OFFSET) % (2 ** 63))
    return gen


def augment_batch(x: torch.Tensor, spec: dict | None, generator: torch.Generator
                  ) -> torch.Tensor:
    """One batch of training inputs, randomly changed as ``spec`` asks.

    Args:
        x: the batch (``N×C×H×W`` images, other float inputs, or integer tokens),
            on the generator's device.
        spec: the ``training.augment`` object (keys that do not fit ``x``'s kind
            are left out; None or empty: ``x`` unchanged).
        generator: where the random draws come from (:func:`augment_generator`).

    Returns:
        A new tensor of ``x``'s shape and dtype (``x`` itself when nothing applies).
    """
    if not spec or len(x) == 0:
        return x
    if not x.is_floating_point():
        p = float(spec.get("token_dropout") or 0)
        if p > 0:
            drop = torch.rand(x.shape, generator=generator, device=x.device) < p
            x = x.masked_fill(drop, 0)
        return x
    if x.dim() == 4:
        x = _geometric(x, spec, generator)
    std = float(spec.get("noise") or 0)
    if std > 0:
        x = x + std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x


def _geometric(x: torch.Tensor, spec: dict, generator: torch.Generator) -> torch.Tensor:
    """Translate, rotate, scale, crop-with-padding and flip a batch of images at once.

    Each sample's map is drawn in pixel units (so a rotation of a non-square
    image stays a rotation), then expressed in ``affine_grid``'s normalised
    coordinates.  The content moves by ``s·R·Flip·p + d``; the grid holds its
    inverse, where each output pixel is read from.
    """
    n, _, h, w = x.shape
    shift = float(spec.get("translate") or 0)
    turn = float(spec.get("rotate") or 0)
    lo, hi = (float(v) for v in (spec.get("scale") or (1.0, 1.0)))
    pad = int(spec.get("crop_pad") or 0)
    flip = bool(spec.get("hflip"))
    if not (shift or turn or lo != 1 or hi != 1 or pad or flip):
        return x
    u = torch.rand((n, 5), generator=generator, device=x.device, dtype=torch.float32)
    angle = (2 * u[:, 0] - 1) * (turn * math.pi / 180)
    zoom = lo + (hi - lo) * u[:, 1]
    dx = (2 * u[:, 2] - 1) * shift
    dy = (2 * u[:, 3] - 1) * shift
    if pad:  # a padded random crop is a whole-pixel shift with zero fill
        off = torch.randint(-pad, pad + 1, (n, 2), generator=generator, device=x.device)
        dx = dx + off[:, 0]
        dy = dy + off[:, 1]
    mirror = torch.where(u[:, 4] < 0.5, -1.0, 1.0) if flip else torch.ones_like(zoom)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # inverse map in pixels: p_in = Flip · R(-angle) / zoom · (p_out - d)
    a, b = mirror * cos, mirror * sin
    c, d = -sin, cos
    tx, ty = -(a * dx + b * dy), -(c * dx + d * dy)
    # pixels → normalised coordinates (x scaled by w/2, y by h/2)
    theta = torch.stack([torch.stack([a, b * (h / w), tx * (2 / w)], 1),
                         torch.stack([c * (w / h), d, ty * (2 / h)], 1)], 1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


#: How many bytes of augmented inputs the engine makes at once (at least one batch).
CHUNK_BYTES = 32 << 20


class EpochAugment:
    """The augmented inputs of one epoch's training batches, for the engine.

    Per-call overhead, not arithmetic, is what augmentation costs on small
    images, so the engine changes the samples of several batches in one
    :func:`augment_batch` call (up to :data:`CHUNK_BYTES`) and hands them
    out batch by batch.  Each chunk's draws come from the generator seeded
    from (run seed, epoch, chunk), so a run resumed inside an epoch
    recomputes its chunk exactly and draws what the uninterrupted run drew.

    Args:
        xs: the training inputs on the device (one tensor per ``Input``).
        spec: the ``training.augment`` object.
        generator: the run's augmentation generator (reseeded per chunk).
        seed: the run's seed.
        epoch: the epoch (0-based), part of each chunk's seed.
        perm: the epoch's permutation of the samples.
        batch_size: samples per batch.
    """

    def __init__(self, xs, spec: dict, generator: torch.Generator, seed: int, epoch: int,
                 perm: torch.Tensor, batch_size: int):
        self.xs, self.spec, self.generator = xs, spec, generator
        self.seed, self.epoch, self.perm, self.B = int(seed), int(epoch), perm, batch_size
        per_sample = sum(x[0].numel() * x.element_size() for x in xs) or 1
        self.per_chunk = max(1, CHUNK_BYTES // (per_sample * batch_size))
        self.k = -1
        self.chunk: tuple = ()

    def batch(self, i: int) -> tuple:
        """The augmented inputs of step ``i`` of the epoch (one tensor per ``Input``)."""
        k, B = i // self.per_chunk, self.B
        if k != self.k:
            idx = self.perm[k * self.per_chunk * B:(k + 1) * self.per_chunk * B]
            self.generator.manual_seed(
                (self.seed * 1_000_003 + self.epoch * 10_007 + k + AUGMENT_SEED_OFFSET)
                % (2 ** 63))
            self.chunk = tuple(augment_batch(x[idx], self.spec, self.generator)
                               for x in self.xs)
            self.k = k
        off = (i - k * self.per_chunk) * B
        return tuple(c[off:off + B] for c in self.chunk)


def preview_samples(dataset: dict, input_shape, input_dtype: str, spec: dict | None,
                    seed: int = 0, count: int = 8, base_dir=None):
    """A few training samples before and after augmentation, for a preview.

    The first ``count`` training samples of the split the run will use,
    shaped as the ``Input`` takes them, changed by :func:`augment_batch` on
    the CPU with the run's augmentation generator.

    Args:
        dataset: the ``training.dataset`` object.
        input_shape: the ``Input``'s sample shape (ints; other entries leave
            the samples as the dataset gives them).
        input_dtype: ``"float32"`` or ``"int64"``.
        spec: the ``training.augment`` object (None: unchanged samples).
        seed: the run's seed.
        count: how many samples.
        base_dir: the folder relative dataset paths are read from.

    Returns:
        ``(originals, augmented)``: two NumPy arrays of ``count`` samples each.

    Raises:
        DatasetError: the dataset cannot be loaded.
    """
    from .data import load_dataset

    ds = load_dataset(dataset, base_dir, seed)
    X = ds.X_train[:count]
    tokens = input_dtype == "int64"
    x = torch.as_tensor(X, dtype=torch.long if tokens else torch.float32)
    shape = tuple(input_shape or ())
    if shape and all(isinstance(d, int) for d in shape) and x[0].numel() == math.prod(shape):
        x = x.reshape(len(x), *shape)
    out = augment_batch(x, spec, augment_generator(seed, "cpu"))
    return x.numpy(), out.numpy()
