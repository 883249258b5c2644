"""Error types of the evfleet library.

Every error a user can cause (bad config, bad input file, unreachable destination,
infeasible plan) is raised as a subclass of :class:`EvfleetError` with a message that
names the problem. The CLI prints such errors as one line and exits non-zero.
"""

from __future__ import annotations


class EvfleetError(Exception):
    """Base class of all user-facing evfleet errors."""


class ConfigError(EvfleetError, ValueError):
    """The configuration is invalid (unknown key, value out of range, shares not summing to 1)."""


class InputDataError(EvfleetError, ValueError):
    """An input file or table is missing, empty, corrupt or has the wrong columns."""


class NetworkSourceError(EvfleetError):
    """A road network cannot be built from the requested source."""


class RoutingError(EvfleetError):
    """A route cannot be found (unreachable destination, unknown node)."""


class WorkspaceError(EvfleetError):
    """The workspace is missing an expected stage output or is not writable."""


class QueryError(EvfleetError):
    """A SQL query was refused (it writes) or failed."""


class DataQualityError(EvfleetError):
    """A dataset failed a critical data-quality expectation."""


class OptimizationError(EvfleetError):
    """A fleet plan cannot be made (e.g. an infeasible trip in strict mode, a site cap)."""


class OrchestrationError(EvfleetError):
    """The orchestration layer (Prefect server, task runner) could not be started."""


class WorkspaceBusyError(WorkspaceError):
    """Another evfleet process holds the workspace's write lock."""
