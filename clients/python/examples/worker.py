#!/usr/bin/env python3
"""An example TaskService tool worker hosting two tools.

    python clients/python/examples/worker.py --addr 127.0.0.1:50051

word_count answers at once; slow_count takes a while, reports progress and
stops early when the task is cancelled. Ctrl-C (or SIGTERM) stops the worker
cleanly. Runs from a plain checkout: if the library or the generated stubs
are not installed, they are taken from the repository.
"""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys

try:
    import taskmanager.v1  # noqa: F401
    import taskservice_worker  # noqa: F401
except ImportError:  # not installed: use the checkout this file lives in
    _REPO = pathlib.Path(__file__).resolve().parents[3]
    sys.path[:0] = [str(_REPO / "gen" / "python"), str(_REPO / "clients" / "python")]

from taskservice_worker import ToolContext, Worker, WorkerRejected  # noqa: E402


def build_worker(addr: str, name: str) -> Worker:
    worker = Worker(addr, name=name, max_concurrency=4, on_registered=lambda worker_id: print(f"registered as {worker_id}"))

    @worker.tool(
        parameters={
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": False,
        }
    )
    def word_count(args: dict, ctx: ToolContext) -> dict:
        """Counts the words and characters of a text."""
        text = args["text"]
        return {"words": len(text.split()), "characters": len(text)}

    @worker.tool(
        parameters={
            "type": "object",
            "properties": {
                "to": {"type": "integer", "minimum": 1, "maximum": 1000},
                "delay": {"type": "number", "minimum": 0, "maximum": 10},
            },
            "required": ["to"],
            "additionalProperties": False,
        },
        concurrency=2,
        hard_timeout=600,
    )
    def slow_count(args: dict, ctx: ToolContext) -> dict | None:
        """Counts up to `to`, one number every `delay` seconds (default 1), reporting progress.

        Waiting on ctx.cancelled instead of sleeping makes a cancellation stop it at once.
        """
        to, delay = args["to"], args.get("delay", 1.0)
        for number in range(1, to + 1):
            if ctx.cancelled.wait(delay):
                print(f"slow_count {ctx.task_id} stopped at {number - 1}: {ctx.cancel_reason} {ctx.cancel_message}")
                return None  # not sent: a cancelled invocation has no result
            ctx.progress(number / to, f"counted {number} of {to}")
        return {"counted": to}

    return worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051", help="TaskService gRPC address (host:port)")
    parser.add_argument("--name", default="example-python-worker", help="worker name shown in the server's logs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        build_worker(args.addr, args.name).run_forever()
    except WorkerRejected as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
