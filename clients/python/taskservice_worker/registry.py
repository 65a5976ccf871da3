"""The tools a worker hosts, declared with a decorator.

Both Worker and AsyncWorker keep their tools in a ToolRegistry; they differ
only in which kind of function they accept as a handler. Everything the
server would reject (a bad name, a duplicate, a schema that is not a JSON
object, nonsensical limits) is rejected here at decoration time, so that the
mistake points at the decorated function rather than at a gRPC error later.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from dataclasses import dataclass
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

TOOL_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
ANY_OBJECT_SCHEMA: Mapping[str, Any] = {"type": "object"}


@dataclass(frozen=True)
class Tool:
    """One declared tool: what is sent in RegisterWorker, plus its handler."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    handler: Callable[..., Any]
    no_background: bool = False
    concurrency: int = 0
    timeout: float | None = None
    hard_timeout: float | None = None
    input_timeout: float | None = None

    @property
    def parameters_json(self) -> str:
        """The schema as the JSON text WorkerTool.parameters_json_schema carries."""
        return json.dumps(self.parameters)


def validate_tool_name(name: str) -> str:
    """Return name if the server would accept it, else raise ValueError saying why."""
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.match(name):
        raise ValueError(
            f"invalid tool name {name!r}: it must match {TOOL_NAME_PATTERN.pattern} "
            "(lowercase letter first, then lowercase letters, digits or '_', at most 64)"
        )
    return name


def first_paragraph(doc: str | None) -> str:
    """The docstring's first paragraph on one line: the default description."""
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).strip()


def _positive_or_none(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or None, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number of seconds (None: the server default), not {value!r}")
    return float(value)


def _schema(parameters: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if parameters is None:
        return dict(ANY_OBJECT_SCHEMA)
    if not isinstance(parameters, Mapping):
        raise TypeError(f"parameters must be a dict (a JSON Schema), not {type(parameters).__name__}")
    try:
        json.dumps(parameters, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parameters is not JSON-serializable: {exc}") from exc
    return dict(parameters)


class ToolRegistry:
    """An ordered set of tools, filled by the ``tool`` decorator.

    check_handler is the worker's rule for handlers (plain function for
    Worker, coroutine function for AsyncWorker); it raises TypeError.
    The registry is frozen when the worker starts: the tool list is sent in
    RegisterWorker (again on every reconnect), so a tool added later would
    silently never be offered.
    """

    def __init__(self, check_handler: Callable[[Callable[..., Any]], None]) -> None:
        self._check_handler = check_handler
        self._tools: dict[str, Tool] = {}
        self._frozen = False

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def freeze(self) -> None:
        self._frozen = True

    def add(self, tool: Tool) -> Tool:
        if self._frozen:
            raise RuntimeError(f"cannot add tool {tool.name!r}: tools must be declared before the worker runs")
        if tool.name in self._tools:
            raise ValueError(f"duplicate tool name {tool.name!r}: a worker hosts each tool once")
        self._tools[tool.name] = tool
        return tool

    @overload
    def tool(self, func: F) -> F: ...

    @overload
    def tool(
        self,
        func: None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        no_background: bool = False,
        concurrency: int = 0,
        timeout: float | None = None,
        hard_timeout: float | None = None,
        input_timeout: float | None = None,
    ) -> Callable[[F], F]: ...

    def tool(
        self,
        func: F | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        no_background: bool = False,
        concurrency: int = 0,
        timeout: float | None = None,
        hard_timeout: float | None = None,
        input_timeout: float | None = None,
    ) -> F | Callable[[F], F]:
        """Declare a tool; usable as ``@tool`` or ``@tool(...)``.

        name defaults to the function's name, description to the first
        paragraph of its docstring, parameters (a JSON Schema dict) to any
        object. concurrency caps this tool's invocations at once on this
        worker (0: no cap of its own). timeout is the budget when a call gives
        none, hard_timeout the runtime limit, input_timeout how long a question
        (ctx.request_input) waits for its answer (None: the server's defaults).
        The function is returned unchanged, so it stays directly callable.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 0:
            raise ValueError(f"concurrency must be an int >= 0 (0: no limit), not {concurrency!r}")
        schema = _schema(parameters)
        default_timeout = _positive_or_none(timeout, "timeout")
        hard_limit = _positive_or_none(hard_timeout, "hard_timeout")
        input_limit = _positive_or_none(input_timeout, "input_timeout")

        def register(fn: F) -> F:
            if not callable(fn):
                raise TypeError(f"a tool handler must be callable, not {type(fn).__name__}")
            self._check_handler(fn)
            tool_name = validate_tool_name(name if name is not None else getattr(fn, "__name__", ""))
            self.add(
                Tool(
                    name=tool_name,
                    description=description if description is not None else first_paragraph(fn.__doc__),
                    parameters=schema,
                    handler=fn,
                    no_background=bool(no_background),
                    concurrency=concurrency,
                    timeout=default_timeout,
                    hard_timeout=hard_limit,
                    input_timeout=input_limit,
                )
            )
            return fn

        if func is not None:
            return register(func)
        return register
