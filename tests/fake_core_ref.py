"""Python mirror of the test fixture tests/rtl/fake_core.v (not a model)."""

from __future__ import annotations

from tritgpt.ml.model import seed_state, xorshift32

LATENCY = 30
CYCLES_PER_TOKEN = LATENCY + 2


def fake_tokens(prompt: list[int], n: int, seed: int) -> list[int]:
    h = sum((i + 1) * b for i, b in enumerate(prompt)) & 0xFFFFFFFF
    state = seed_state((seed ^ h) & 0xFFFFFFFF)
    out = []
    for _ in range(n):
        state = xorshift32(state)
        out.append((state >> 8) & 0x7F)
    return out
