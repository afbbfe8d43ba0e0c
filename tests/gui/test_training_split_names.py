"""The training area's plots and settings panel were split into small
modules (sizes: tests/test_module_sizes.py), and what callers import from
them stays importable there.

``gui.training.plots`` composes :mod:`gui.training.plot_panels` (the panels,
their grid and Follow) and :mod:`gui.training.run_curves` (one run's curves);
``gui.training.settings`` composes a group object per block of rows
(``settings_dataset``, ``settings_loss_rows``, ``settings_optimizer``,
``settings_loop``) and the fit and memory lines (``settings_checks``).
"""

from __future__ import annotations

import importlib


def test_what_callers_import_from_the_plots_and_the_settings_is_still_there():
    plots = importlib.import_module("gui.training.plots")
    settings = importlib.import_module("gui.training.settings")
    assert {"PANELS", "TASKS", "TrainingPlots", "UnknownRunError"} <= set(vars(plots))
    assert plots.PANELS == ("loss", "metric", "lr", "grad_norm")
    assert "TrainingSettings" in vars(settings)
