"""One way to bind a view to the open document.

Every panel (inspector, problems, code, training settings, training area)
and every controller of the main window shows or edits one
:class:`~gui.document.Document` at a time, and follows it when another is
opened.  Each holds a :class:`DocumentBinding` naming the document's signals
it listens to; ``bind(doc)`` disconnects the previous document's signals and
connects the new one's, so a document that was closed never drives a view
again (nor keeps it alive).

    self.binding = DocumentBinding(analysed=self.refresh,
                                   training_changed=self.load)
    ...
    def bind(self, doc):
        self.doc = self.binding.bind(doc)
        self.refresh()
"""

from __future__ import annotations

from typing import Callable


class DocumentBinding:
    """The connections of one view to the document it shows.

    Args:
        **slots: document signal name → the view's callable for it; one
            callable, or a tuple of several (called in that order).
    """

    def __init__(self, **slots: Callable | tuple[Callable, ...]):
        self.slots = {name: (s if isinstance(s, tuple) else (s,)) for name, s in slots.items()}
        self.doc = None

    def bind(self, doc):
        """Listen to ``doc`` (None: to nothing) instead of the previous document.

        Returns:
            ``doc``, for ``self.doc = self.binding.bind(doc)``.
        """
        self.unbind()
        if doc is not None:
            for name, slots in self.slots.items():
                signal = getattr(doc, name)
                for slot in slots:
                    signal.connect(slot)
        self.doc = doc
        return doc

    def unbind(self) -> None:
        """Stop listening to the current document."""
        old, self.doc = self.doc, None
        if old is None:
            return
        for name, slots in self.slots.items():
            for slot in slots:
                try:
                    getattr(old, name).disconnect(slot)
                except (RuntimeError, TypeError):  # its C++ half is deleted already
                    pass
