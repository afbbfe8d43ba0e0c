"""B5: time from process start to the main window shown (bar: 1.5 s).

Starts ``python main.py`` (the example network) with a probe that prints a
line at the first event-loop turn after ``show()`` and quits; also checks that
torch was not imported before the window was shown (architecture rule 7).
Also opens the ResNet-18 template (units) the same way, alternating with the
example, and prints its time against the example's: a project of units must
not show the window later (issue 11, B5).  Prints one line per figure; exit 1
if a bar is missed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR_S = 1.5


RESNET18 = ROOT / "resources" / "templates" / "resnet18_digits.json"


def once(project: Path | None = None) -> tuple[float, str]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               NETCANVAS_STARTUP_PROBE="1", NETCANVAS_NO_AUTOSAVE_PROMPT="1",
               NETCANVAS_DATA_DIR=tempfile.mkdtemp(prefix="nc-bench-"))
    t0 = time.perf_counter()
    args = [sys.executable, str(ROOT / "main.py")] + ([str(project)] if project else [])
    proc = subprocess.Popen(args, cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = ""
    for line in proc.stdout:
        if line.startswith("netcanvas-shown"):
            break
    elapsed = time.perf_counter() - t0
    proc.wait(timeout=30)
    return elapsed, line.strip()


def main() -> int:
    once()  # warm the file cache
    once(RESNET18)
    runs, units = [], []
    for _ in range(3):  # alternated, so both see the same machine load
        runs.append(once())
        units.append(once(RESNET18))
    best = min(t for t, _ in runs)
    probe = runs[0][1]
    torch_free = "torch=False" in probe
    ok = best <= BAR_S and torch_free
    print(f"B5 startup: window shown in {best:.2f} s (bar {BAR_S} s, ratio {best / BAR_S:.2f}); "
          f"torch imported before show: {not torch_free}; {'PASS' if ok else 'FAIL'}")
    best_units = min(t for t, _ in units)
    ratio = best_units / best
    # 10 % allows for the noise of a shared machine between two best-of-3 figures
    units_ok = best_units <= BAR_S and ratio <= 1.10
    print(f"B5 startup with the ResNet-18 template (units): {best_units:.2f} s, "
          f"ratio to the example {ratio:.2f} (<= 1.10 and <= {BAR_S} s); "
          f"{'PASS' if units_ok else 'FAIL'}")
    return 0 if ok and units_ok else 1


if __name__ == "__main__":
    sys.exit(main())
