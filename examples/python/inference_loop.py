#!/usr/bin/env python3
"""An inference loop that routes every tool call of a model through TaskService.

    python3 examples/python/inference_loop.py --addr 127.0.0.1:50051
    python3 examples/python/inference_loop.py --addr 127.0.0.1:50051 \\
        --redirect-platform chat --redirect-channel C1

The "model" is a script standing in for an LLM (so the example runs offline
and always does the same): each turn it reads the conversation so far and
emits tool calls (a name and JSON arguments, as a model does) or its final
answer. The loop sends each call to Execute with a short budget and hands
the model back exactly the text the server answered:

1. an inline call (echo) answers with its result;
2. a slow call (sleep) outlives the budget and is backgrounded: the model
   reads the envelope, JSON with the task_id;
3. the model asks about that task itself, with the check_task meta-tool;
4. with --redirect-platform/--redirect-channel, it has the result delivered
   to a chat channel with the redirect_task meta-tool (the server must have
   that platform configured);
5. it then has nothing more to call, so the loop awaits the backgrounded task
   (AwaitResult), printing progress, and gives the model its result.

Runs from a plain checkout: if the client library or the generated stubs are
not installed, they are taken from the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

try:
    import taskmanager.v1  # noqa: F401
    import taskservice_client  # noqa: F401
except ImportError:  # not installed: use the checkout this file lives in
    _REPO = pathlib.Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(_REPO / "gen" / "python"), str(_REPO / "clients" / "python")]

from taskservice_client import (  # noqa: E402
    Client,
    InvalidArgument,
    NotFound,
    TaskHandle,
    TaskServiceError,
    TaskUpdate,
    UpdateKind,
)

PROMPT = "Say hello, then take a nap, and tell me when you have woken up."


# -- the conversation, as an inference service would keep it ----------------------------


@dataclass(frozen=True)
class ToolCall:
    """A tool call as a model emits it: a name and the arguments as JSON text."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Message:
    """One entry of the conversation: the user's prompt, the model's calls, or a tool's answer."""

    role: str  # "user", "assistant" or "tool"
    content: str = ""
    calls: tuple[ToolCall, ...] = ()


Turn = Callable[[list[Message]], "list[ToolCall] | str"]


class ScriptedModel:
    """Stands in for an LLM: turn n reads the conversation and returns tool calls or a final answer.

    Like a real model, it learns task ids only by reading tool answers: the
    envelope of a backgrounded call is JSON with "task_id" and "status": "running".
    """

    def __init__(self, sleep_seconds: float, redirect: tuple[str, str] | None) -> None:
        self._turns: list[Turn] = [
            lambda history: [
                call("echo", text="Hello! Going for a nap."),
                call("sleep", seconds=sleep_seconds),
            ],
            lambda history: [call("check_task", task_id=running_task_id(history))],
        ]
        if redirect is not None:
            platform, channel_id = redirect
            self._turns.append(
                lambda history: [
                    call("redirect_task", task_id=running_task_id(history), channel_id=channel_id, platform=platform)
                ]
            )
        self._turns += [
            lambda history: [],  # nothing more to do until the nap is over
            lambda history: f"I said hello and napped; the nap tool reports: {history[-1].content}",
        ]

    def respond(self, history: list[Message]) -> list[ToolCall] | str:
        turn = sum(1 for message in history if message.role == "assistant")
        return self._turns[min(turn, len(self._turns) - 1)](history)


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(name, json.dumps(arguments))


def running_task_id(history: list[Message]) -> str:
    """The task_id of the last envelope in the tool answers, as a model would read it."""
    for message in reversed(history):
        if message.role != "tool":
            continue
        try:
            answer = json.loads(message.content)
        except ValueError:
            continue
        if isinstance(answer, dict) and answer.get("status") == "running" and "task_id" in answer:
            return str(answer["task_id"])
    raise LookupError("no backgrounded task in the conversation")


# -- the loop -----------------------------------------------------------------------------


def say(turn: int, text: str) -> None:
    print(f"[turn {turn}] {text}", flush=True)


class InferenceLoop:
    """Sends the model's tool calls to Execute and gives the model the texts back."""

    def __init__(self, client: Client, model: ScriptedModel, user_id: str, budget: float) -> None:
        self.client = client
        self.model = model
        self.user_id = user_id
        self.budget = budget
        self.history = [Message("user", PROMPT)]
        #: Backgrounded calls whose result the model has not seen yet.
        self.pending: list[TaskHandle] = []

    def run(self) -> str:
        print(f"user: {PROMPT}", flush=True)
        turn = 0
        while True:
            turn += 1
            reply = self.model.respond(self.history)
            if isinstance(reply, str):
                say(turn, f"model answers: {reply}")
                return reply
            self.history.append(Message("assistant", calls=tuple(reply)))
            if not reply:
                self.await_pending(turn)
            for tool_call in reply:
                self.history.append(Message("tool", self.execute(turn, tool_call)))

    def execute(self, turn: int, tool_call: ToolCall) -> str:
        say(turn, f"model calls {tool_call.name} {tool_call.arguments}")
        try:
            outcome = self.client.execute(
                tool_call.name, tool_call.arguments, user_id=self.user_id, budget_seconds=self.budget
            )
        except (InvalidArgument, NotFound) as error:
            # An unknown tool or arguments its schema refuses: the model's mistake, so it reads why.
            # Anything else (the server unreachable, a bad token) ends the loop.
            say(turn, f"{tool_call.name} was refused: {error}")
            return f"Error: {error.message}"
        if outcome.backgrounded:
            self.pending.append(outcome)
            say(turn, f"{tool_call.name} is backgrounded; the model reads: {outcome.text}")
        else:
            # A tool that failed inline is no exception either: the model reads "Error: ...".
            say(turn, f"{tool_call.name} {'failed' if outcome.failed else 'answered'} inline: {outcome.text}")
        return outcome.text

    def await_pending(self, turn: int) -> None:
        """The model waits: stream each backgrounded task to its end and give it the final text."""
        if not self.pending:
            raise RuntimeError("the model waits, but nothing runs in the background")
        for handle in self.pending:
            say(turn, f"the model waits; awaiting task {handle.task_id} ({handle.task.tool_name})")
            text = ""
            for update in handle.await_result(heartbeat_seconds=1.0):
                say(turn, f"  {update.kind.name} {describe(update)}")
                text = update.text
                if update.kind is UpdateKind.WAIT_TIMED_OUT:
                    text = f"Error: task {handle.task_id} is still running"
            self.history.append(Message("tool", text))
        self.pending.clear()


def describe(update: TaskUpdate) -> str:
    task = update.task
    if task.completed:
        return f"completed: {task.result}"
    if task.failed:
        return f"failed ({task.failure_reason.name}): {task.error}"
    if task.progress is not None:
        return f"{task.progress.fraction:.0%} {task.progress.message}"
    return "running"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default="127.0.0.1:50051", help="TaskService host:port")
    parser.add_argument("--token", default=os.environ.get("TASKSERVICE_TOKEN"), help="bearer token (default: $TASKSERVICE_TOKEN)")
    parser.add_argument("--user-id", default="inference-example", help="the user the calls are made for")
    parser.add_argument("--budget", type=float, default=0.5, help="seconds before a call is backgrounded")
    parser.add_argument("--sleep-seconds", type=float, default=3.0, help="how long the slow call takes")
    parser.add_argument("--redirect-platform", help="a platform configured on the server (TASKSERVICE_PLATFORMS)")
    parser.add_argument("--redirect-channel", help="the channel to deliver the slow call's result to")
    args = parser.parse_args(argv)
    if (args.redirect_platform is None) != (args.redirect_channel is None):
        parser.error("--redirect-platform and --redirect-channel go together")
    redirect = (args.redirect_platform, args.redirect_channel) if args.redirect_platform else None

    seconds = int(args.sleep_seconds) if args.sleep_seconds.is_integer() else args.sleep_seconds
    model = ScriptedModel(seconds, redirect)
    try:
        with Client(args.addr, token=args.token) as client:
            InferenceLoop(client, model, args.user_id, args.budget).run()
    except TaskServiceError as error:
        print(f"inference_loop: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
