"""Greedy decoding of a teacher-forced sequence-to-sequence model
(:mod:`runtime.decode`): the model is fed its own guesses, one step at a time."""

from __future__ import annotations

import torch
from torch import nn

from runtime.decode import decode_samples, greedy_decode


class CountOn(nn.Module):
    """Scores the token after each decoder token as (that token + 1) mod 11:
    greedy decoding must feed its guesses back to count 1, 2, 3..."""

    def forward(self, src, tgt):
        return nn.functional.one_hot((tgt + 1) % 11, 11).float()


class Reverser(nn.Module):
    """Scores at decoder step t the source's token S-1-t (a perfect reverse model)."""

    def forward(self, src, tgt):
        t = tgt.shape[1]
        return nn.functional.one_hot(src.flip(1)[:, :t], 11).float()


def test_the_model_is_fed_its_own_guesses():
    src = torch.tensor([[5, 5, 5, 5]])
    assert greedy_decode(CountOn(), src, 4).tolist() == [[1, 2, 3, 4]]
    assert greedy_decode(CountOn(), src, 3, start_token=7).tolist() == [[8, 9, 10]]


def test_a_perfect_reverser_decodes_the_reversed_source_and_the_mode_is_kept():
    model = Reverser().train()
    src = torch.tensor([[1, 2, 3, 4], [9, 8, 7, 6]])
    target = src.flip(1)
    rows = decode_samples(model, src, target, count=2)
    assert rows[0] == {"input": [1, 2, 3, 4], "target": [4, 3, 2, 1],
                       "prediction": [4, 3, 2, 1], "correct": True}
    assert rows[1]["prediction"] == [6, 7, 8, 9] and rows[1]["correct"]
    assert model.training  # put back in training mode after decoding
    wrong = decode_samples(CountOn(), src, target, count=1)
    assert wrong[0]["prediction"] == [1, 2, 3, 4] and not wrong[0]["correct"]
