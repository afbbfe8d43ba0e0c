"""Cycles are collected between events, never inside a Qt call (gui/collector.py):
an automatic collection inside ``QObject::disconnect`` that frees a widget
whose destructor needs the same lock froze the window for good (it hung the
test run while a plot panel was being built)."""

from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QObject

from gui.collector import SafeCollector, collect_due


class Cycle:
    def __init__(self):
        self.me = self
        self.obj = QObject()  # a Qt object only the collector can free


def test_no_collection_runs_outside_the_timer_and_the_timer_frees_cycles(
        qtbot, collect_between_events):
    collect_between_events.stop()
    collector = SafeCollector(interval_ms=20)
    runs = []

    def note(phase, info):
        if phase == "start":
            runs.append(info["generation"])

    gc.collect()
    gc.callbacks.append(note)
    try:
        collector.start()
        assert not gc.isenabled() and collector.running()
        made = [Cycle() for _ in range(3 * gc.get_threshold()[0])]  # well past a collection
        freed = weakref.ref(made[0])
        del made
        assert runs == []  # nothing collected while the code ran (as inside a Qt call)
        assert freed() is not None
        qtbot.waitUntil(lambda: freed() is None, timeout=3000)  # the timer's collection
        assert runs and runs[0] == 0  # the young generation, as Python would have
    finally:
        gc.callbacks.remove(note)
        collector.stop()
    assert not collector.running()


def test_stop_restores_automatic_collection_as_it_was(qtbot, collect_between_events):
    collect_between_events.stop()
    assert gc.isenabled()
    collector = SafeCollector()
    collector.start()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
    gc.disable()
    try:
        collector.start()
        collector.stop()
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()


def test_collect_due_collects_the_oldest_generation_over_its_threshold(
        collect_between_events):
    collect_between_events.stop()
    gc.collect()
    assert collect_due() == -1  # nothing due just after a full collection
    old = gc.get_threshold()
    gc.disable()
    try:
        gc.set_threshold(10, 1, 1_000_000)
        keep = [[] for _ in range(50)]  # 50 tracked objects: gen 0 is over 10
        assert collect_due() == 0
        keep += [[] for _ in range(50)]
        assert collect_due() == 0  # gen 1 has seen one collection: not over 1 yet
        keep += [[] for _ in range(50)]
        assert collect_due() == 1  # now it is
    finally:
        gc.set_threshold(*old)
        gc.enable()
