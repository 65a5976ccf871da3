"""Reconnect delays: exponential with jitter.

The jitter matters when a server restarts: every worker lost its stream at
the same instant, and without it they would all reconnect in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Callable

INITIAL_DELAY_S = 0.1
MAX_DELAY_S = 5.0


class Backoff:
    """Delays of initial, 2x, 4x, ... up to maximum, each drawn from [d/2, d]."""

    def __init__(
        self,
        initial: float = INITIAL_DELAY_S,
        maximum: float = MAX_DELAY_S,
        factor: float = 2.0,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self._initial = initial
        self._maximum = maximum
        self._factor = factor
        self._random = random_fraction
        self._current = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the following one."""
        delay = self._current * (0.5 + 0.5 * self._random())
        self._current = min(self._maximum, self._current * self._factor)
        return delay

    def reset(self) -> None:
        """Start from the initial delay again (after a registration succeeded)."""
        self._current = self._initial
