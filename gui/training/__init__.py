"""The training view's widgets: live curves, decision map, confusion matrix,
histograms, diagnosis text and the progress line.

Everything here except :mod:`gui.training.progress` and
:mod:`gui.training.series` imports pyqtgraph, which costs ~0.6–1 s; the
package itself imports nothing so that the main window can load it only when
the training view first opens (architecture rule 7).  Widgets take numpy
arrays and plain numbers — no torch.
"""
