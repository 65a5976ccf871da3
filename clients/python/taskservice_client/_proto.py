"""The generated taskmanager.v1 modules, imported in one place.

Every other module imports the stubs from here so that a missing
``taskservice-proto`` install fails once, with a message that says what to
install, instead of as a bare ModuleNotFoundError deep inside the library.
"""

from __future__ import annotations

try:
    from taskmanager.v1 import task_pb2, task_service_pb2, task_service_pb2_grpc
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "taskservice_client needs the generated TaskService stubs (package "
        "'taskmanager'): pip install <repo>/gen/python, or put <repo>/gen/python "
        "on sys.path"
    ) from exc

__all__ = ["task_pb2", "task_service_pb2", "task_service_pb2_grpc"]
