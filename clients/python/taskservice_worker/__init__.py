"""Host TaskService tools in a Python process.

A worker connects to TaskService's ToolWorkerService, declares its tools and
runs the invocations the server sends it; TaskService gives those tools the
same budgets, backgrounding, tracking, cancelling and redirects as its own.

    from taskservice_worker import Worker

    worker = Worker("127.0.0.1:50051", name="text-tools")

    @worker.tool(parameters={"type": "object", "properties": {"text": {"type": "string"}}})
    def word_count(args, ctx):
        '''Counts the words of a text.'''
        return {"words": len(args.get("text", "").split())}

    worker.run_forever()

Worker runs plain functions on threads; AsyncWorker runs ``async def``
handlers on an event loop. A handler can ask a person a question and wait
for the answer: ``ctx.request_input(message, schema)`` (awaited with
AsyncWorker). See README.md for the whole API.
"""

from .async_worker import AsyncWorker
from .context import AsyncToolContext, BaseToolContext, Origin, ToolContext
from .errors import FATAL_CODES, InputRequestError, InvocationCancelled, WorkerRejected
from .registry import Tool, ToolRegistry, validate_tool_name
from .sync_worker import Worker

__all__ = [
    "AsyncToolContext",
    "AsyncWorker",
    "BaseToolContext",
    "FATAL_CODES",
    "InputRequestError",
    "InvocationCancelled",
    "Origin",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "WorkerRejected",
    "Worker",
    "validate_tool_name",
    "__version__",
]

from ._version import __version__
