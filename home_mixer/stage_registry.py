"""Built-in stages, registered by name through the ``candidate_pipeline.stages`` entry point
(the same mechanism third-party plugins use). Filled in as stages are built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

STAGES: Mapping[str, Callable[..., Any]] = {}
