"""Plugin discovery through entry points and building pipelines from declarative specs.

The plugin is a real installed-looking distribution written to a temp dir: a package module
plus ``tiny_plugin-0.1.dist-info/`` with METADATA and ``entry_points.txt``. It declares the
real group and a private test group; loading uses the private group so other packages'
plugins in this environment cannot influence these tests.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from candidate_pipeline import (
    ENTRY_POINT_GROUP,
    PipelineSpec,
    PipelineSpecError,
    StageRegistry,
    StageRegistryError,
    StageSpec,
    TopKScoreSelector,
    build_pipeline,
    load_pipeline_spec,
    load_stage_registry,
)

from .fakes import Query, ids

PLUGIN_MODULE = '''
"""A third-party stage plugin, as a user would ship it."""
from candidate_pipeline import BaseStage


class TinySource(BaseStage):
    def __init__(self, ids):
        self.ids = list(ids)

    async def get_candidates(self, query):
        from types import SimpleNamespace
        return [SimpleNamespace(id=i, score=None) for i in self.ids]


class TinyScorer(BaseStage):
    def __init__(self, multiplier):
        self.multiplier = multiplier

    async def score(self, query, candidates):
        return [{{"score": c.id * self.multiplier}} for c in candidates]


BUILT = []


def make_source(deps, ids=()):
    BUILT.append("tiny_source")
    return TinySource(ids)


def make_scorer(deps, offset=0):
    BUILT.append("tiny_scorer")
    return TinyScorer(deps.multiplier + offset)


STAGES = {{"{prefix}_source": make_source, "{prefix}_scorer": make_scorer}}
'''


@dataclass
class Plugin:
    module: str
    group: str
    prefix: str

    def built(self) -> list[str]:
        return list(sys.modules[self.module].BUILT)


def write_plugin(root: Path, module: str, dist: str, group: str, prefix: str) -> None:
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text(PLUGIN_MODULE.format(prefix=prefix))
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""\
            [{ENTRY_POINT_GROUP}]
            {dist} = {module}:STAGES

            [{group}]
            {dist} = {module}:STAGES
            """
        )
    )


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Plugin]:
    suffix = uuid.uuid4().hex[:8]
    module, group = f"tiny_plugin_{suffix}", f"candidate_pipeline.stages.test_{suffix}"
    write_plugin(tmp_path, module, "tiny_plugin", group, prefix="tiny")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield Plugin(module=module, group=group, prefix="tiny")
    sys.modules.pop(module, None)


@dataclass
class Deps:
    multiplier: float


YAML_SPEC = """\
name: tiny_feed
sources:
  - name: tiny_source
    params: {ids: [1, 2, 3]}
    timeout_s: 0.5
scorers:
  - name: tiny_scorer
    params: {offset: 1}
  - name: not_installed_anywhere
    enabled: false
selector:
  name: top_k
  params: {k: 2}
result_size: 10
default_stage_timeout_s: 2
"""


def test_entry_point_is_declared_in_the_real_group(plugin: Plugin) -> None:
    assert "tiny_plugin" in {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def test_load_stage_registry_discovers_the_plugin(plugin: Plugin) -> None:
    factories = load_stage_registry(group=plugin.group)
    assert sorted(factories) == ["tiny_scorer", "tiny_source"]
    registry = StageRegistry.from_entry_points(group=plugin.group)
    assert "tiny_plugin" in registry.origin("tiny_source")


def test_build_pipeline_from_yaml_spec_naming_plugin_stages(plugin: Plugin, tmp_path: Path) -> None:
    registry = StageRegistry.from_entry_points(group=plugin.group)
    registry.register("top_k", lambda deps, **params: TopKScoreSelector(**params))
    path = tmp_path / "pipeline.yaml"
    path.write_text(YAML_SPEC)
    spec = load_pipeline_spec(path)
    pipe = build_pipeline(spec, registry, Deps(multiplier=10))

    # the disabled stage was never built (its name is not even registered)
    assert plugin.built() == ["tiny_source", "tiny_scorer"]
    assert (pipe.name, pipe.result_size, pipe.default_stage_timeout_s) == ("tiny_feed", 10, 2)
    assert pipe.sources[0].timeout_s == 0.5

    result = asyncio.run(pipe.execute(Query()))
    assert ids(result.selected) == [3, 2]
    assert [c.score for c in result.selected] == [33, 22]  # (deps.multiplier + offset) * id
    assert ids(result.non_selected) == [1]


def test_names_not_in_allowed_are_refused(plugin: Plugin) -> None:
    factories = load_stage_registry(group=plugin.group, allowed={"tiny_source"})
    assert sorted(factories) == ["tiny_source"]
    spec = PipelineSpec(name="p", sources=["tiny_source"], scorers=["tiny_scorer"])
    with pytest.raises(PipelineSpecError) as err:
        build_pipeline(spec, factories, Deps(1))
    assert "unknown stage 'tiny_scorer'" in str(err.value)
    assert "known stages: tiny_source" in str(err.value)


def test_duplicate_stage_names_raise_naming_both_sources(
    plugin: Plugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_root = tmp_path / "other"
    other_module = f"{plugin.module}_clone"
    write_plugin(other_root, other_module, "tiny_clone", plugin.group, prefix="tiny")
    monkeypatch.syspath_prepend(str(other_root))
    try:
        with pytest.raises(StageRegistryError) as err:
            load_stage_registry(group=plugin.group)
    finally:
        sys.modules.pop(other_module, None)
    message = str(err.value)
    assert "registered twice" in message
    assert "'tiny_plugin'" in message and "'tiny_clone'" in message


def test_in_process_registration_and_duplicates() -> None:
    registry = StageRegistry()
    registry.register("top_k", lambda deps, **p: TopKScoreSelector(**p))
    with pytest.raises(StageRegistryError, match="registered twice: by in-process registration and by test"):
        registry.register("top_k", lambda deps: TopKScoreSelector(1), origin="test")
    with pytest.raises(StageRegistryError, match="not callable"):
        registry.register("x", "nope")  # type: ignore[arg-type]
    assert list(registry) == ["top_k"] and len(registry) == 1


def test_broken_plugin_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suffix = uuid.uuid4().hex[:8]
    group = f"candidate_pipeline.stages.broken_{suffix}"
    info = tmp_path / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken_plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\nbroken = no_such_module_{suffix}:STAGES\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StageRegistryError, match="could not load entry point 'broken'"):
        load_stage_registry(group=group)


def _registry() -> StageRegistry:
    from .fakes import FakeFilter, FakeSource

    registry = StageRegistry()
    registry.register("src", lambda deps, ids=(): FakeSource("src", ids))
    registry.register("flt", lambda deps: FakeFilter("flt", lambda c: c.id > 1))
    registry.register("top_k", lambda deps, **p: TopKScoreSelector(**p))
    registry.register("needs_param", lambda deps, required: FakeSource("x", []))
    return registry


def test_spec_shorthand_json_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            {
                "name": "j",
                "sources": [{"name": "src", "params": {"ids": [1, 2]}}],
                "filters": ["flt"],
                "selector": {"name": "top_k", "params": {"k": 1}, "enabled": False},
            }
        )
    )
    spec = load_pipeline_spec(path)
    assert spec.filters == [StageSpec(name="flt")]
    pipe = build_pipeline(spec, _registry())
    assert pipe.selector is None  # disabled in the spec -> not built
    assert ids(asyncio.run(pipe.execute(Query())).selected) == [2]

    with pytest.raises(ValueError):
        PipelineSpec.model_validate({"name": "x", "filterz": []})
    with pytest.raises(ValueError):
        StageSpec.model_validate({"name": "x", "timeout_s": 0})
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(PipelineSpecError, match="mapping"):
        load_pipeline_spec(tmp_path / "list.yaml")


def test_build_errors_are_explicit() -> None:
    with pytest.raises(PipelineSpecError, match="listed under scorers must provide score"):
        build_pipeline(PipelineSpec(name="p", scorers=["flt"]), _registry())
    with pytest.raises(PipelineSpecError, match="building sources stage 'needs_param'"):
        build_pipeline(PipelineSpec(name="p", sources=["needs_param"]), _registry())
    with pytest.raises(PipelineSpecError, match="known stages: flt, needs_param, src, top_k"):
        build_pipeline(PipelineSpec(name="p", filters=["typo"]), _registry())
