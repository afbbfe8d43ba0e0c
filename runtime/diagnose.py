"""Diagnosis in words from a run's metric history.

Pure functions over the per-epoch history (a list of dicts with
``train_loss``, ``val_loss``, ``train_accuracy``, ``val_accuracy``,
``grad_norms`` {node: norm}, ``dead_by_node`` {node: fraction}, ...); no torch.
Each check returns :class:`Finding` objects — what is wrong and what to
change — and :func:`diagnose` runs them all.  The thresholds are deliberately
coarse: a finding should be obviously true when shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Gradient norm ratio (last layer / first layer) beyond which gradients vanish.
VANISH_RATIO = 1e-3
#: How many of the layers under the vanishing threshold a finding names.
VANISH_NAMED = 5
#: A gradient norm above this is exploding.
EXPLODE_NORM = 1e3
#: Fraction of a ReLU layer's units that never activate before it is reported.
DEAD_FRACTION = 0.5


@dataclass(frozen=True)
class Finding:
    """One diagnosis.

    Attributes:
        kind: ``"underfitting"``, ``"overfitting"``, ``"vanishing_gradients"``,
            ``"exploding_gradients"``, ``"dead_units"``, ``"lr_too_high"``.
        message: what the curves show.
        suggestion: what to change.
        node: the node concerned, if one.
    """

    kind: str
    message: str
    suggestion: str
    node: str | None = None

    def text(self) -> str:
        return f"{self.message}; {self.suggestion}"

    def to_json(self) -> dict:
        d = {"kind": self.kind, "message": self.message, "suggestion": self.suggestion}
        if self.node is not None:
            d["node"] = self.node
        return d


def _series(history: list[dict], key: str) -> list[float]:
    return [h[key] for h in history if isinstance(h.get(key), (int, float))]


def _finite(xs: list[float]) -> bool:
    return all(math.isfinite(x) for x in xs)


def learning_rate(history: list[dict]) -> list[Finding]:
    """Loss rising or diverging: the learning rate is too high."""
    loss = _series(history, "train_loss")
    if len(loss) < 2:
        return []
    if not _finite(loss):
        return [Finding("lr_too_high", "the training loss became NaN/Inf",
                        "lower the learning rate (e.g. by 10×) or set grad_clip_norm")]
    best = min(loss)
    if loss[-1] > 1.5 * loss[0] or (loss[-1] > 2 * best and loss[-1] - best > 1e-3):
        return [Finding("lr_too_high",
                        f"the training loss rose from {loss[0]:.3g} to {loss[-1]:.3g} "
                        f"(lowest {best:.3g})",
                        "lower the learning rate (e.g. by 10×) or add a schedule that decays it")]
    if len(loss) >= 4 and all(b > a for a, b in zip(loss[-4:], loss[-3:])):
        return [Finding("lr_too_high", "the training loss rose in each of the last 3 epochs",
                        "lower the learning rate or add a decaying schedule")]
    return []


def fitting(history: list[dict]) -> list[Finding]:
    """Over-fitting (validation worsens while training improves) or
    under-fitting (training itself stays poor)."""
    out: list[Finding] = []
    tr, va = _series(history, "train_loss"), _series(history, "val_loss")
    tra, vaa = _series(history, "train_accuracy"), _series(history, "val_accuracy")
    if len(tr) < 2 or not _finite(tr):
        return out
    over = False
    if len(va) >= 3 and _finite(va):
        k = va.index(min(va))
        if k < len(va) - 1 and va[-1] > 1.1 * va[k] + 1e-4 and tr[-1] < tr[k]:
            over = True
            out.append(Finding("overfitting",
                               f"the validation loss was lowest at epoch {k + 1} ({va[k]:.3g}) "
                               f"and rose to {va[-1]:.3g} while the training loss kept falling",
                               "add regularisation (Dropout, weight_decay), use early_stopping, "
                               "a smaller model or more data"))
    if not over and tra and vaa and tra[-1] - vaa[-1] > 0.15:
        over = True
        out.append(Finding("overfitting",
                           f"training accuracy {tra[-1]:.0%} is far above validation accuracy "
                           f"{vaa[-1]:.0%}",
                           "add regularisation (Dropout, weight_decay), a smaller model or "
                           "more data"))
    if over:
        return out
    plateau = len(tr) >= 3 and (tr[-3] - tr[-1]) < 0.01 * abs(tr[-3])
    poor = (tra[-1] < 0.8) if tra else (tr[-1] > 0.5 * tr[0])
    if poor and (plateau or len(tr) >= 3):
        what = f"training accuracy is only {tra[-1]:.0%}" if tra else \
            f"the training loss only fell from {tr[0]:.3g} to {tr[-1]:.3g}"
        out.append(Finding("underfitting",
                           f"{what}{' and has stopped improving' if plateau else ''}",
                           "train longer, raise the learning rate, or make the model larger "
                           "(more units or layers)"))
    return out


def gradients(history: list[dict], labels: dict[str, str] | None = None) -> list[Finding]:
    """Vanishing (first layers get almost nothing) or exploding gradients,
    from the last epoch's per-node norms (nodes in forward order)."""
    labels = labels or {}
    norms = next((h["grad_norms"] for h in reversed(history) if h.get("grad_norms")), None)
    if not norms:
        return []
    vals = list(norms.values())
    nodes = list(norms)
    if not _finite(vals) or max(vals) > EXPLODE_NORM:
        big = max(range(len(vals)), key=lambda i: vals[i] if math.isfinite(vals[i]) else math.inf)
        return [Finding("exploding_gradients",
                        f"the gradient of {labels.get(nodes[big], nodes[big])} has norm "
                        f"{vals[big]:.3g}",
                        "set grad_clip_norm (e.g. 1.0), lower the learning rate, or add "
                        "normalisation", nodes[big])]
    if len(vals) >= 2 and vals[-1] > 0:
        return _vanishing(nodes, vals, labels)
    return []


def _times(ratio: float) -> str:
    """A ratio as a reader takes it in: ``4000×``, ``7.5e+13×``."""
    return f"{ratio:.0f}×" if ratio < 1e5 else f"{ratio:.2g}×"


def _vanishing(nodes: list[str], vals: list[float], labels: dict[str, str]) -> list[Finding]:
    """Vanishing gradients: the first layer's norm is below :data:`VANISH_RATIO`
    times the last layer's.  The message names the first layers under that
    threshold (in forward order) and how many there are, so in a deep stack
    it says how far up the gradient still reaches."""
    threshold = VANISH_RATIO * vals[-1]
    if vals[0] >= threshold:
        return []
    low = [i for i, v in enumerate(vals[:-1]) if v < threshold]
    names = [labels.get(nodes[i], nodes[i]) for i in low[:VANISH_NAMED]]
    more = f" and {len(low) - len(names)} more" if len(low) > len(names) else ""
    if len(low) == 1:
        which = f"{names[0]}"
    else:
        which = f"{len(low)} of {len(vals)} layers, first {', '.join(names)}{more}"
    return [Finding("vanishing_gradients",
                    f"gradients vanish: the gradient norm fell below {VANISH_RATIO:g}× the "
                    f"last layer's ({vals[-1]:.2g}) at {which}; at {names[0]} it is "
                    f"{_times(vals[-1] / max(vals[0], 1e-30))} smaller than at the last layer",
                    "use ReLU/GELU instead of sigmoid/tanh, add BatchNorm/LayerNorm or "
                    "residual connections, or use a better initialisation (delta_orthogonal "
                    "for a deep plain CNN)", nodes[0])]


def dead_units(history: list[dict], labels: dict[str, str] | None = None) -> list[Finding]:
    """ReLU layers where most units never activate."""
    labels = labels or {}
    per = next((h["dead_by_node"] for h in reversed(history) if h.get("dead_by_node")), None)
    out = []
    for nid, frac in (per or {}).items():
        if frac >= DEAD_FRACTION:
            out.append(Finding("dead_units",
                               f"{frac:.0%} of the units of {labels.get(nid, nid)} never "
                               "activate (dead ReLUs)",
                               "lower the learning rate, use LeakyReLU/GELU, or use He (kaiming) "
                               "initialisation", nid))
    return out


def diagnose(history: list[dict], labels: dict[str, str] | None = None) -> list[Finding]:
    """All findings for a run's history (empty when nothing is wrong)."""
    found = learning_rate(history)
    if not found:
        found += fitting(history)
    return found + gradients(history, labels) + dead_units(history, labels)
