"""The TaskService release this worker library belongs to. Written by scripts/version.mjs from VERSION."""

__version__ = "0.2.0"
