"""The loaded catalog: every spec, indexed, plus where each came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..metrics.registry import MetricRegistry
from .specs import (Asset, AssignmentTemplate, BehaviourGap, BenchmarkKind, CatalogTest,
                    Direction, Flow, PerformanceGap, Pipeline, Skill, Thresholds)


@dataclass(frozen=True)
class Source:
    file: str
    line: int | None


@dataclass(frozen=True)
class Catalog:
    root: Path
    pipeline: Pipeline
    thresholds: Thresholds
    performance_gaps: Mapping[str, PerformanceGap]
    behaviour_gaps: Mapping[str, BehaviourGap]
    skills: Mapping[str, Skill]
    flows: Mapping[str, Flow]                   # by behaviour gap id
    assets: Mapping[str, Asset]
    assignments: Mapping[str, AssignmentTemplate]
    tests: tuple[tuple[str, CatalogTest], ...]  # (file, test)
    sources: Mapping[str, Source] = field(default_factory=dict)  # "gap:<id>", "flow:<id>"...
    version: str = ""                           # content hash: names rulesets on reload

    @cached_property
    def registry(self) -> MetricRegistry:
        return MetricRegistry(self.pipeline)

    def gap(self, gap_id: str) -> PerformanceGap:
        return self.performance_gaps.get(gap_id) or self.behaviour_gaps[gap_id]

    @property
    def gaps(self) -> dict[str, PerformanceGap]:
        return {**self.performance_gaps, **self.behaviour_gaps}

    def benchmarks_of(self, gap: PerformanceGap) -> list[BenchmarkKind]:
        """The benchmarks a gap compares with, in order of preference."""
        return list(gap.compare_to) if gap.compare_to else [self.thresholds.benchmark]

    def direction_of(self, gap: PerformanceGap) -> Direction:
        if gap.direction is not None:
            return gap.direction
        return Direction.below if self.registry.get(gap.metric).higher_is_better else Direction.above

    def min_gap_of(self, gap: PerformanceGap) -> float:
        return gap.min_gap if gap.min_gap is not None else self.thresholds.min_gap

    def gaps_for_role(self, role: str) -> list[PerformanceGap]:
        return [g for g in self.gaps.values() if role in g.roles]

    def assets_for(self, skill_id: str, role: str | None = None) -> list[Asset]:
        """The learning assets for a root cause; for a role, those written for it (or any role)."""
        return _for_role([a for a in self.assets.values() if skill_id in a.addresses], role)

    def assignments_for(self, skill_id: str, role: str | None = None) -> list[AssignmentTemplate]:
        """The selling-assignment templates for a root cause; for a role, those that suit it."""
        return _for_role([a for a in self.assignments.values() if skill_id in a.addresses], role)

    def asset_path(self, asset: Asset) -> Path | None:
        return (self.root / "learning_library" / asset.file) if asset.file else None


def _for_role(items: list, role: str | None) -> list:
    """Items for `role`: those naming it or no role; all of them if none fits."""
    if role is None:
        return items
    fitting = [i for i in items if not i.roles or role in i.roles]
    return fitting or items


def freeze(d: dict) -> Mapping:
    return MappingProxyType(dict(d))
