"""Stage registry: stage names -> factories, discovered through Python entry points.

Built-in stages and third-party plugins register the same way (DESIGN.md §5): a
distribution declares an entry point in group ``candidate_pipeline.stages`` whose object is
a ``Mapping[str, StageFactory]``. A pipeline spec then names stages, and
:func:`~candidate_pipeline.spec.build_pipeline` calls ``factory(deps, **params)``, where
``deps`` is an opaque bundle of shared clients supplied by the application. Name clashes are
errors (never "last one wins"), because silently swapping a filter is a correctness bug.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from candidate_pipeline.stage import Stage

logger = logging.getLogger("candidate_pipeline")

ENTRY_POINT_GROUP = "candidate_pipeline.stages"

StageFactory = Callable[..., Stage]
"""Builds a stage: ``factory(deps, **params)``."""


class StageRegistryError(Exception):
    """A plugin could not be loaded or two sources claim the same stage name."""


def _describe(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    dist_name = getattr(dist, "name", None) if dist is not None else None
    origin = f" (distribution {dist_name})" if dist_name else ""
    return f"entry point {ep.name!r} = {ep.value!r}{origin}"


class StageRegistry(Mapping[str, StageFactory]):
    """Name -> factory mapping that remembers where each name came from."""

    def __init__(self) -> None:
        self._factories: dict[str, StageFactory] = {}
        self._origins: dict[str, str] = {}

    def register(self, name: str, factory: StageFactory, origin: str = "in-process registration") -> None:
        """Add one stage factory; a name registered twice raises naming both origins."""
        if not isinstance(name, str) or not name:
            raise StageRegistryError(f"stage name must be a non-empty string, got {name!r} from {origin}")
        if not callable(factory):
            raise StageRegistryError(f"factory for stage {name!r} from {origin} is not callable: {factory!r}")
        if name in self._factories:
            raise StageRegistryError(
                f"stage name {name!r} is registered twice: by {self._origins[name]} and by {origin}"
            )
        self._factories[name] = factory
        self._origins[name] = origin

    def register_all(self, factories: Mapping[str, StageFactory], origin: str) -> None:
        """Register every entry of a plugin's mapping."""
        for name, factory in factories.items():
            self.register(name, factory, origin)

    def origin(self, name: str) -> str:
        """Where ``name`` was registered from (entry point / in-process)."""
        return self._origins[name]

    def __getitem__(self, name: str) -> StageFactory:
        return self._factories[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    @classmethod
    def from_entry_points(
        cls, group: str = ENTRY_POINT_GROUP, allowed: Collection[str] | None = None
    ) -> StageRegistry:
        """Load every entry point of ``group``; keep only stage names in ``allowed`` if given.

        ``allowed`` is an allow-list of STAGE names (what a spec may name), so an operator
        can restrict which installed stages a configuration is able to use.
        """
        registry = cls()
        for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
            origin = _describe(ep)
            try:
                loaded: Any = ep.load()
            except Exception as exc:
                raise StageRegistryError(f"could not load {origin}: {exc!r}") from exc
            if not isinstance(loaded, Mapping):
                raise StageRegistryError(
                    f"{origin} loaded a {type(loaded).__name__}; expected a Mapping[str, StageFactory]"
                )
            for name, factory in loaded.items():
                if allowed is not None and name not in allowed:
                    logger.info("stage %r from %s refused: not in the allowed stage names", name, origin)
                    continue
                registry.register(name, factory, origin)
        return registry


def load_stage_registry(
    group: str = ENTRY_POINT_GROUP, allowed: Collection[str] | None = None
) -> dict[str, StageFactory]:
    """All stage factories advertised through entry points of ``group`` (see StageRegistry)."""
    return dict(StageRegistry.from_entry_points(group=group, allowed=allowed))
