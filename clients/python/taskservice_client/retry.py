"""When a failed call is tried again, and after how long.

Only UNAVAILABLE is retried: it is the status of a server that cannot be
reached, is restarting, or has lost its store for a moment, and the request
did no harm. Every other status is an answer (a bad argument stays bad).

Only idempotent calls are retried, because UNAVAILABLE can also come after
the server acted: GetResult, ListTasks, ListTools, GetServerInfo, CancelTask
(cancelling a cancelled task is a no-op), SetOutputRedirect (the same target
again is a no-op), and Execute only when it has a request_id (the server then
answers a repeat with the same task instead of running the tool again).
ProvideInput never is: an answer the server took but whose reply was lost
would come back FAILED_PRECONDITION (no longer the open question).
AwaitResult (and ExecuteStream once its answer came) reconnects instead: the
new stream resumes after the last version and output byte the application
saw, so nothing is lost or repeated. ExecuteStream before its answer follows
Execute's rule: issued again only with a request_id.

The delays grow exponentially and are drawn from [d/2, d] so that clients
that lost the same server at the same moment do not come back in lockstep.
Both the number of attempts and the time spent retrying are bounded.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from .errors import status_code

logger = logging.getLogger("taskservice_client")

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long an idempotent call is tried while the server is UNAVAILABLE.

    max_attempts counts the first attempt too (1: never retry). The n-th
    retry waits a random time in [d/2, d] with d = min(max_backoff,
    initial_backoff * multiplier ** (n - 1)). No retry starts once
    max_elapsed seconds have passed since the first attempt began.
    """

    # The defaults wait 3 to 6 s in all, long enough for a server to restart,
    # and match the Go client's.
    max_attempts: int = 7
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    max_elapsed: float = 30.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(f"max_attempts must be an int >= 1 (1: no retries), not {self.max_attempts!r}")
        for name in ("initial_backoff", "max_backoff", "max_elapsed"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
        if not isinstance(self.multiplier, (int, float)) or not math.isfinite(self.multiplier) or self.multiplier < 1:
            raise ValueError(f"multiplier must be a finite number >= 1, not {self.multiplier!r}")

    def backoff(self, retry: int, random_fraction: float) -> float:
        """The wait before retry number ``retry`` (1 for the first retry); random_fraction in [0, 1]."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier ** (retry - 1))
        return ceiling * (0.5 + 0.5 * random_fraction)


#: Never retry: each call is tried once.
NO_RETRY = RetryPolicy(max_attempts=1)


class Attempts:
    """The retry budget of one call (or of one AwaitResult wait, across reconnects)."""

    def __init__(
        self,
        policy: RetryPolicy,
        what: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.what = what
        #: Attempts started so far, the current one included.
        self.made = 1
        self._clock = clock
        self._random = random_fraction
        self._started = clock()
        self._retries = 0

    def retry_after(self, error: BaseException) -> float | None:
        """The wait before the next attempt after error, or None when the call should fail now.

        None when the error is not retryable, the attempts are used up, or the
        retry would start after max_elapsed. A returned delay counts the next
        attempt as made.
        """
        code = status_code(error)
        if code not in RETRYABLE or self.made >= self.policy.max_attempts:
            return None
        delay = self.policy.backoff(self._retries + 1, self._random())
        if self._clock() + delay - self._started > self.policy.max_elapsed:
            return None
        self._retries += 1
        self.made += 1
        logger.info("%s: %s; attempt %d of %d in %.2f s", self.what, code.name, self.made, self.policy.max_attempts, delay)
        return delay

    def reset(self) -> None:
        """The call made progress (a stream delivered an update): start the budget afresh."""
        self.made = 1
        self._retries = 0
        self._started = self._clock()
