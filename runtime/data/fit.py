"""Does a dataset fit the network's ``Input``? One message in words, or None.

The rule is validation's own (:func:`graph.dataset_info.check_fits`): the
editor shows on every edit the very message the engine refuses with.
Standard library only, so the editor can check a built-in set before numpy
or torch are loaded.
"""

from __future__ import annotations

from graph.dataset_info import BATCH, check_fits

__all__ = ["BATCH", "check_fits"]
