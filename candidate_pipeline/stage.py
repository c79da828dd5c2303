"""The one thing every pipeline stage has in common: a name and an on/off switch.

X's candidate-pipeline gives every trait ``fn name()`` (the short type name) and
``fn enable(&self, query) -> bool { true }``. Keeping exactly that shared surface lets the
executor treat query hydrators, sources, filters, ... uniformly for timeouts, stats and
logging, while each stage kind adds only its own work method.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

QueryT = TypeVar("QueryT")
"""The request/query type a pipeline is parameterised by (a mutable dataclass)."""
QueryT_contra = TypeVar("QueryT_contra", contravariant=True)
CandidateT = TypeVar("CandidateT")
"""The candidate type a pipeline is parameterised by (a mutable object)."""
CandidateT_contra = TypeVar("CandidateT_contra", contravariant=True)


@runtime_checkable
class Stage(Protocol):
    """A named pipeline component that can be switched off per request.

    ``enable`` is evaluated when the executor reaches the stage, so it sees the query as
    hydrated so far (e.g. "skip the cache source unless the cache hydrator found posts").
    A stage may also carry ``timeout_s: float | None``; the executor reads it with getattr
    and falls back to the pipeline's default.
    """

    name: str

    def enable(self, query: Any) -> bool: ...


class BaseStage:
    """Convenience base: ``name`` defaults to the class name, always enabled, no own timeout.

    Subclasses override ``name`` (class attribute or instance attribute), ``timeout_s`` or
    ``enable`` only when they need to; everything else comes for free, mirroring the Rust
    trait defaults.
    """

    name: str = "BaseStage"
    timeout_s: float | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    def enable(self, query: Any) -> bool:
        return True


def stage_name(stage: object) -> str:
    """The name used in stats, metrics and logs; tolerant of stages without a ``name``."""
    name = getattr(stage, "name", None)
    return name if isinstance(name, str) and name else type(stage).__name__


def stage_timeout(stage: object, default_s: float | None) -> float | None:
    """The stage's own ``timeout_s`` if it sets one, else the pipeline default.

    A non-positive or missing default means "no timeout" so tooling (e.g. a debugger
    session) can switch timeouts off without touching every stage.
    """
    own = getattr(stage, "timeout_s", None)
    timeout = own if own is not None else default_s
    if timeout is None or timeout <= 0:
        return None
    return float(timeout)
