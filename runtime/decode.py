"""Greedy decoding of a sequence-to-sequence model trained with teacher forcing.

A teacher-forced model (the ``reverse`` templates) takes the source and the
target shifted right behind a start token, and scores the next token at
every step.  At inference there is no target to shift: :func:`greedy_decode`
starts from the start token alone and feeds the model its own best guess one
step at a time, which is what a user wants to compare with the target after
each epoch.  :func:`decode_samples` does it for a few validation samples and
returns plain lists (for a protocol payload or a table).
"""

from __future__ import annotations

import torch


def greedy_decode(model: torch.nn.Module, src: torch.Tensor, steps: int,
                  start_token: int = 0, tgt_index: int = 1) -> torch.Tensor:
    """The model's own output sequence for each source, one step at a time.

    Args:
        model: takes its inputs in node order, the decoder's input (token ids
            N×T) at position ``tgt_index`` among them and the source at the
            other; returns scores N×T×classes.
        src: the source token ids, N×S (on the model's device).
        steps: how many tokens to produce.
        start_token: the id the decoder's input starts with.
        tgt_index: the position of the decoder's input among the model's inputs.

    Returns:
        The predicted token ids, N×steps (int64).
    """
    n = src.shape[0]
    tgt = torch.full((n, 1), start_token, dtype=torch.long, device=src.device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for _ in range(steps):
                args = [src, tgt] if tgt_index == 1 else [tgt, src]
                scores = model(*args)
                nxt = scores[:, -1].argmax(-1, keepdim=True)  # causal: the last step's guess
                tgt = torch.cat([tgt, nxt], dim=1)
    finally:
        model.train(was_training)
    return tgt[:, 1:]


def decode_samples(model: torch.nn.Module, src: torch.Tensor, target: torch.Tensor,
                   start_token: int = 0, count: int = 3, tgt_index: int = 1) -> list[dict]:
    """Input, target and greedy prediction of the first ``count`` samples, as
    lists of token ids: ``[{"input": [...], "target": [...], "prediction": [...],
    "correct": bool}]``."""
    src, target = src[:count], target[:count]
    pred = greedy_decode(model, src, target.shape[1], start_token, tgt_index)
    return [{"input": s.tolist(), "target": t.tolist(), "prediction": p.tolist(),
             "correct": bool(torch.equal(t.cpu(), p.cpu()))}
            for s, t, p in zip(src, target, pred)]


def epoch_samples(setup, dataset_spec: dict | None, count: int = 3) -> list[dict] | None:
    """Greedy decodes of the first ``count`` validation samples of a run, or None.

    Only a teacher-forced sequence-to-sequence run gets them: its built-in set's
    catalogue entry names the source and decoder ``Input`` ids and the start
    token (``BuiltinInfo.decode``), the network has exactly those two Inputs and
    one trained ``Output`` (the set's), and there is a validation split.

    Args:
        setup: the run's :class:`~runtime.setup.Setup`.
        dataset_spec: the run's ``training.dataset`` (``{"name": …}``).
        count: how many samples (the same ones each epoch: the split is fixed).

    Returns:
        ``[{"input", "target", "prediction": [token ids], "correct": bool}]``,
        or None for any other run.
    """
    from .data.catalog import builtin_catalog

    spec = dataset_spec or {}
    if not isinstance(spec.get("name"), str) or "npz" in spec:
        return None
    info = builtin_catalog().get(spec["name"])
    rule = info.decode if info is not None else None
    if not rule or sorted(setup.inputs) != sorted((rule["source"], rule["decoder"])):
        return None
    heads = [h for h in setup.heads if h.output_id == info.output]
    # a model with several outputs returns a tuple greedy_decode cannot read
    if len(setup.heads) != 1 or not heads or heads[0].index is not None:
        return None
    src = setup.Xvs[setup.inputs.index(rule["source"])]
    target = heads[0].Lv if heads[0].Lv is not None else heads[0].Yv
    if not len(src) or target is None or target.dim() != 2:
        return None
    return decode_samples(setup.model, src, target, start_token=int(rule["start"]),
                          count=count, tgt_index=setup.inputs.index(rule["decoder"]))
