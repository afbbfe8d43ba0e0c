"""The built-in datasets, generated or read from scikit-learn's bundled files.

:func:`builtin` is the public way to get one as a split
:class:`~runtime.data.Dataset`; :func:`runtime.data.load_dataset` calls it
after checking a project's settings, and an exported training script copies
it (with what it uses) so that the same seed gives the same samples.  The
synthetic sets need numpy alone; ``digits``, ``iris``, ``wine`` and
``breast_cancer`` need scikit-learn (:data:`~runtime.data.catalog.REAL`).
"""

from __future__ import annotations

import numpy as np

from .node_arrays import NodeDataset, TargetArrays
from .dataset import Dataset, DatasetError
from .catalog import REAL, BuiltinInfo, builtin_catalog
from .prepare import check_arrays, finish, split_indices
from .synthetic import GENERATORS, NODE_GENERATORS
from .tabular import real


def builtin(name: str, *, seed: int = 0, val_fraction: float = 0.2, n: int | None = None,
            target: str | None = None, **options) -> Dataset:
    """A built-in dataset, made and split (public API).

    Args:
        name: a name of :func:`~runtime.data.builtin_catalog` (``"moons"``, ``"digits"``…).
        seed: seeds the generator, the subsample and the split: the same seed
            gives identical arrays.
        val_fraction: the validation part's share, in (0, 1).
        n: the number of samples; None: the set's default (a bundled set's
            whole file; fewer subsamples it).
        target: ``"input"`` makes the input itself the regression target
            (autoencoders); None: the set's own targets.
        options: the set's options (``noise``, ``classes``, ``seq_len``,
            ``vocab``: see the catalogue); the others take their defaults.

    Returns:
        The dataset: ``X_*`` float32 (int64 token ids for the token sets),
        or, for a set with one array per Input (``reverse``), a
        :class:`~runtime.data.node_arrays.NodeDataset` with the arrays by node id;
        ``y_*`` int64 class indices or float32 values ``(n, 1)``; the tabular
        bundled sets (not digits) standardised with the training part's statistics.

    Raises:
        DatasetError: an unknown name or option, or scikit-learn missing for a
            bundled set (the message names the package to install).
    """
    catalog = builtin_catalog()
    if name not in catalog:
        raise DatasetError(f"no built-in dataset {name!r}; the built-in sets are "
                           + ", ".join(catalog))
    info = catalog[name]
    defaults = dict(info.options)
    unknown = [k for k in options if k not in defaults]
    if unknown:
        raise DatasetError(f"{name} has no option {unknown[0]!r}; its options: "
                           + (", ".join(defaults) or "none"))
    if target == "input":
        inner = builtin(name, seed=seed, val_fraction=val_fraction, n=n, **options)
        return reconstruction(inner, seed=seed, val_fraction=val_fraction)
    if target is not None:
        raise DatasetError(f'target must be "input" (the input itself) or None, got {target!r}')
    rng = np.random.default_rng(seed)
    if name in REAL:
        X, y, names = real(name, rng, n)
        return finish(name, info.task, X, y, seed=seed, val_fraction=val_fraction,
                      description=f"{name}: {info.description}", num_classes=len(names),
                      class_names=names, standardise=name != "digits")
    vals = {**defaults, **options}
    if info.inputs:
        return node_set(info, rng, info.default_n if n is None else n, vals, seed=seed,
                        val_fraction=val_fraction, given=options)
    X, y = GENERATORS[name](rng, info.default_n if n is None else n, **vals)
    k = vals.get("vocab", vals.get("classes", info.num_classes))
    names = list(info.class_names or ())
    if name == "spirals":
        names = [f"arm {i}" for i in range(k)]
    elif "vocab" in vals:
        names = [str(i) for i in range(k)]
    extra = ", ".join(f"{o}={v}" for o, v in vals.items() if o in options)
    desc = f"{name}: {info.description}" + (f" [{extra}]" if extra else "")
    return finish(name, info.task, X, y, seed=seed, val_fraction=val_fraction, description=desc,
                  num_classes=k if info.task == "classification" else None,
                  class_names=names or None)


def reconstruction(ds: Dataset, *, seed: int, val_fraction: float) -> Dataset:
    """The same samples with the input itself as the regression target, split anew."""
    X = np.concatenate([ds.X_train, ds.X_val])
    return finish(ds.name, "regression", X, X.copy(), seed=seed,
                  val_fraction=val_fraction, description=f"{ds.description.split(' (')[0]} "
                  "— target: the input itself (reconstruction)")


def node_set(info: BuiltinInfo, rng: np.random.Generator, n: int, vals: dict, *, seed: int,
             val_fraction: float, given: dict) -> NodeDataset:
    """A built-in set with one array per ``Input`` (the catalogue's ``inputs``) and
    one target for the ``Output`` it names, all split by one shuffle."""
    xs, y = NODE_GENERATORS[info.name](rng, n, **vals)
    for key, X in xs.items():
        check_arrays(X, y, f"{info.name} ({key})")
    n_val = int(np.ceil(n * val_fraction))
    if n_val < 1 or n - n_val < 1:
        raise DatasetError(f"{info.name}: {n} samples cannot be split with val_fraction "
                           f"{val_fraction}; both parts need at least one sample")
    tr, va = split_indices(n, n_val, seed)  # per-step targets: never stratified
    k = vals["vocab"] + info.reserved_tokens
    names = list(info.class_names[:info.reserved_tokens]) + [str(i) for i in range(vals["vocab"])]
    inputs = {i: (np.ascontiguousarray(xs[i][tr]), np.ascontiguousarray(xs[i][va]))
              for i, _shape, _dt in info.inputs}
    target = TargetArrays(info.task, np.ascontiguousarray(y[tr]), np.ascontiguousarray(y[va]),
                          k, names)
    extra = ", ".join(f"{o}={v}" for o, v in vals.items() if o in given)
    first = info.inputs[0][0]
    desc = (f"{info.name}: {info.description}" + (f" [{extra}]" if extra else "")
            + f" ({len(tr)} training / {len(va)} validation samples)")
    return NodeDataset(name=info.name, task=info.task, X_train=inputs[first][0],
                       y_train=target.train, X_val=inputs[first][1], y_val=target.val,
                       input_shape=tuple(int(d) for d in inputs[first][0].shape[1:]),
                       input_dtype=info.input_dtype, num_classes=k, class_names=names,
                       target_shape=target.shape, description=desc, inputs=inputs,
                       targets={info.output: target})
