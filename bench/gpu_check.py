"""The engine's GPU paths that the CPU test suite cannot reach, in one short run.

Each check prints one line, ``ok`` or ``FAIL`` with what was seen:

- ``cuda``: training on device ``cuda`` (data on the device, losses read a
  few times per second) learns the digits MLP;
- ``amp bf16`` / ``amp fp16``: mixed precision is really used (no fallback
  note), losses stay finite, fp16 goes through a ``GradScaler``;
- ``nan cuda``: a NaN injected at step 8 stops the run with a ``nan`` fault
  naming step 8 (seen at report time), the good losses before it kept;
- ``nan fp16``: the same under fp16, where the scaler skips the bad update,
  so the layer that produced it can be named;
- ``stop cuda``: a stop takes effect within one step and writes a checkpoint;
- B2 on CUDA: ``bench/engine_vs_handwritten.py`` prints the engine against a
  plain ``DataLoader`` loop (run it separately; it needs about a minute).

Without a CUDA GPU it says ``no CUDA GPU: skipped`` and exits 0.

Usage: ``python bench/gpu_check.py``
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402

FAILED: list[str] = []


def report(name: str, ok: bool, detail: str) -> None:
    print(f"gpu_check {name}: {'ok' if ok else 'FAIL'} ({detail})", flush=True)
    if not ok:
        FAILED.append(name)


def trainer(extra: dict | None = None, **kw):
    from engine_vs_handwritten import TRAINING, mlp_graph

    from runtime.data import load_dataset
    from runtime.engine import Trainer

    ds = load_dataset({"name": "digits"})
    return Trainer(mlp_graph(), {**TRAINING, "epochs": 5, "device": "cuda", **(extra or {})},
                   dataset=ds, **kw)


def poison(t, node: str, at_call: int) -> None:
    """From its ``at_call``-th training call on, the node's layer outputs NaN (also in
    the engine's no-grad look at the bad batch, as a real broken layer would)."""
    mod = getattr(t.model, t.setup.code.attrs[node])
    orig, calls = mod.forward, [0]

    def forward(x):
        y = orig(x)
        if torch.is_grad_enabled():
            calls[0] += 1
        return y * float("nan") if calls[0] >= at_call else y

    mod.forward = forward


def check_cuda() -> None:
    t0 = time.perf_counter()
    r = trainer().run()
    acc = r.metrics.get("val_accuracy") or 0.0
    rate = r.history[-1].get("samples_per_s") if r.history else None
    report("cuda", r.stopped == "completed" and acc >= 0.9 and r.device.startswith("cuda"),
           f"{r.stopped}, val_accuracy {acc:.3f}, {rate or 0:,.0f} samples/s, "
           f"{time.perf_counter() - t0:.1f} s")


def check_amp(kind: str) -> None:
    t = trainer({"amp": kind})
    t.prepare()
    fallback = [n for n in t.notes if "mixed precision" in n]
    scaler = t.scaler is not None
    r = t.run()
    finite = all(v == v and abs(v) != float("inf") for v in r.step_losses)
    acc = r.metrics.get("val_accuracy") or 0.0
    want_scaler = kind == "fp16" or (kind == "bf16" and not torch.cuda.is_bf16_supported())
    report(f"amp {kind}", not fallback and finite and scaler == want_scaler and acc >= 0.85,
           f"{r.stopped}, val_accuracy {acc:.3f}, GradScaler {scaler}, finite losses {finite}"
           + (f", note: {fallback[0]}" if fallback else ""))


def check_nan(amp: str | bool, name: str, want_node: bool) -> None:
    t = trainer({"amp": amp}, report_every=1e9)
    t.prepare()
    poison(t, "l3", 8)
    r = t.run()
    f = r.fault
    ok = (r.stopped == "error" and f is not None and f.kind == "nan" and f.step == 8
          and len(r.step_losses) == 7 and (f.node == "l3") == want_node)
    report(name, ok, f"{r.stopped}; {f.message if f else 'no fault'}; node {f.node if f else None}")


def check_stop() -> None:
    with tempfile.TemporaryDirectory() as out:
        t = trainer({"epochs": 50}, out_dir=out, report_every=0)

        class StopAt5:
            def on_step(self, m):
                if m["step"] == 5:
                    t.stop()

        t.callbacks.append(StopAt5())
        r = t.run()
        ok = r.stopped == "stopped" and len(r.step_losses) == 5 and (Path(out) / "last.pt").exists()
        report("stop cuda", ok, f"{r.stopped} after {len(r.step_losses)} steps")


def main() -> int:
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU: skipped")
        return 0
    print(f"gpu_check on {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    check_cuda()
    check_amp("bf16")
    check_amp("fp16")
    check_nan(False, "nan cuda", want_node=False)
    check_nan("fp16", "nan fp16", want_node=True)
    check_stop()
    print(f"gpu_check: {'all ok' if not FAILED else 'FAILED: ' + ', '.join(FAILED)}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
