"""Synthetic CIN census returns calibrated to the published LA figures (see :mod:`.generate`)."""

from cin_assets.synth.generate import LaResult, ReturnStats, generate_census, generate_la

__all__ = ["LaResult", "ReturnStats", "generate_census", "generate_la"]
