"""The draw as a pure function of its plan, its seed and its inputs: no database, no clock, no
`random`. docs/draws.md states the same rules for anyone re-implementing them; `service`
feeds this module what it read, and `verify` feeds it what was stored.

Targets: each grade stratum is ordered by SHA-256("<seed>:<establishment id>") (hex, then id),
high-risk establishments are taken first, then the stratum is filled up to its quota
ceil(N × ratio) in that order. When the total falls short of ceil(N_all × min_coverage), the
shortfall is spread over the strata in proportion to what each has left (largest remainder).

Inspectors: targets are paired in draw order; each gets the k inspectors of its pool with the
fewest targets so far, ties broken by a per-target random order, skipping the one combination
that inspected it last time.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from math import ceil, floor
from typing import NamedTuple

from supervision.sampling.plan import STRATA, Plan


class Candidate(NamedTuple):
    id: int
    stratum: str  # A–E or "ungraded"
    grid_id: int | None
    jurisdiction_id: int
    high_risk: bool


class InspectorRow(NamedTuple):
    id: int
    jurisdiction_id: int
    grid_ids: tuple[int, ...]
    valid_from: date
    valid_until: date


class Target(NamedTuple):
    id: int
    stratum: str
    reason: str  # "high_risk", "ratio" or "floor"
    position: int
    inspector_ids: tuple[int, ...] = ()
    no_pair_reason: str | None = None


@dataclass
class StratumCount:
    candidates: int = 0
    high_risk: int = 0
    quota: int = 0
    floor_extra: int = 0
    drawn: int = 0


@dataclass
class Outcome:
    targets: list[Target]
    strata: dict[str, StratumCount]
    candidates: int
    floor_needed: int
    pairing: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)  # target id -> its sort key


def sort_key(seed: str, ident: int) -> str:
    return hashlib.sha256(f"{seed}:{ident}".encode("ascii")).hexdigest()


def _keyer(seed: str):
    """sort_key for one seed, hashing the prefix once (the same digests, computed faster)."""
    prefix = hashlib.sha256(f"{seed}:".encode("ascii"))

    def key(ident: int) -> str:
        h = prefix.copy()
        h.update(b"%d" % ident)
        return h.hexdigest()
    return key


def _inspector_key(seed: str, inspector_id: int) -> int:
    return int(hashlib.sha256(f"{seed}:inspector:{inspector_id}".encode("ascii")).hexdigest()[:16], 16)


def quota(count: int, ratio: Fraction) -> int:
    """The rounding rule: a stratum of N at ratio r gives ceil(N × r), computed exactly, so any
    non-empty stratum with a positive ratio yields at least one target."""
    return ceil(count * ratio)


def spread(shortfall: int, remaining: dict[str, int]) -> dict[str, int]:
    """The coverage floor: `shortfall` extra targets over the strata in proportion to what each
    has left, by the largest-remainder method; ties go to the stratum earlier in A, B, C, D, E,
    ungraded."""
    total = sum(remaining.values())
    if shortfall <= 0 or total == 0:
        return {s: 0 for s in remaining}
    shortfall = min(shortfall, total)
    exact = {s: Fraction(shortfall * n, total) for s, n in remaining.items()}
    extra = {s: floor(v) for s, v in exact.items()}
    left = shortfall - sum(extra.values())
    order = sorted(remaining, key=lambda s: (-(exact[s] - extra[s]), STRATA.index(s)))
    for s in order[:left]:
        extra[s] += 1
    return extra


def stratum_takes(plan: Plan, sizes: dict[str, tuple[int, int]]) -> tuple[dict[str, StratumCount], int, dict[str, tuple[int, int]]]:
    """The arithmetic of the targets from the strata's sizes alone: `sizes[s]` = (candidates,
    high-risk candidates). Returns the counts, the coverage floor's `needed` and, per stratum,
    (ratio fill, floor extra): how many of its other candidates, in key order, are taken for
    the ratio and then for the floor."""
    counts = {s: StratumCount(candidates=sizes.get(s, (0, 0))[0], high_risk=sizes.get(s, (0, 0))[1]) for s in STRATA}
    fills, rest = {}, {}
    for s, c in counts.items():
        c.quota = quota(c.candidates, plan.ratio(s))
        others = c.candidates - c.high_risk
        fills[s] = min(max(0, c.quota - c.high_risk), others)
        rest[s] = others - fills[s]
    total = sum(c.candidates for c in counts.values())
    needed = ceil(total * plan.coverage)
    drawn = sum(c.high_risk + fills[s] for s, c in counts.items())
    extra = spread(needed - drawn, rest)
    for s, c in counts.items():
        c.floor_extra = extra[s]
        c.drawn = c.high_risk + fills[s] + min(extra[s], rest[s])
    return counts, needed, {s: (fills[s], extra[s]) for s in STRATA}


def take_in_key_order(rows, takes: dict[str, tuple[int, int]], counts: dict[str, StratumCount], total: int,
                      needed: int) -> Outcome:
    """The targets, in draw order, from candidate rows (key, id, candidate) sorted by (key, id)
    across all strata: every candidate, or at least every high-risk one and each stratum's first
    fill + extra others. A stratum's rows keep their own (key, id) order within the whole, so one
    pass takes every high-risk candidate and, per stratum, the first `fill` others for the ratio
    and the next `extra` for the floor (`stratum_takes`)."""
    fill = {s: f for s, (f, _) in takes.items()}
    limit = {s: f + e for s, (f, e) in takes.items()}
    taken = dict.fromkeys(takes, 0)
    targets: list[Target] = []
    keys: dict[int, str] = {}
    for key, ident, c in rows:
        if c.high_risk:
            reason = "high_risk"
        else:
            n = taken[c.stratum]
            if n >= limit[c.stratum]:
                continue
            taken[c.stratum] = n + 1
            reason = "ratio" if n < fill[c.stratum] else "floor"
        keys[ident] = key
        targets.append(Target(ident, c.stratum, reason, len(targets)))
    return Outcome(targets, counts, total, needed, keys=keys)


def select_targets(plan: Plan, seed: str, candidates: list[Candidate]) -> Outcome:
    key = _keyer(seed)
    sizes: dict[str, list[int]] = {s: [0, 0] for s in STRATA}
    for c in candidates:
        size = sizes[c.stratum]
        size[0] += 1
        size[1] += c.high_risk
    counts, needed, takes = stratum_takes(plan, {s: (n, h) for s, (n, h) in sizes.items()})
    rows = sorted((key(c.id), c.id, c) for c in candidates)  # ids are unique: candidates never compared
    return take_in_key_order(rows, takes, counts, len(candidates), needed)


def pair_inspectors(plan: Plan, seed: str, outcome: Outcome, candidates: dict[int, Candidate],
                    inspectors: list[InspectorRow], conflicts: set[tuple[int, int]],
                    last_pairs: dict[int, tuple[int, ...]]) -> None:
    """Give each target `plan.inspectors_per_target` inspectors (in place), or the reason none
    could be found."""
    k = plan.inspectors_per_target
    start, end = plan.period_start, plan.period_end
    valid = [i for i in inspectors if i.valid_from <= start and i.valid_until >= end]
    by_grid: dict[int, list[int]] = {}
    all_by_grid: dict[int, int] = {}
    by_district: dict[int, list[int]] = {}
    for i in inspectors:
        for g in i.grid_ids:
            all_by_grid[g] = all_by_grid.get(g, 0) + 1
    for i in valid:
        for g in i.grid_ids:
            by_grid.setdefault(g, []).append(i.id)
        by_district.setdefault(i.jurisdiction_id, []).append(i.id)
    ikey = {i.id: _inspector_key(seed, i.id) for i in valid}
    members = {g: [(i, ikey[i]) for i in ids] for g, ids in by_grid.items()}
    conflicted = {e for _, e in conflicts}  # most targets have no declared conflict: skip the check
    load = {i.id: 0 for i in valid}
    keys, targets = outcome.keys, outcome.targets
    paired = 0
    for n, target in enumerate(targets):
        tid = target.id
        cand = candidates[tid]
        tkey = int(keys[tid][:16], 16)
        grid_ids = members.get(cand.grid_id, ()) if cand.grid_id is not None else ()
        if tid in conflicted:
            grid_ids = [(i, ik) for i, ik in grid_ids if (i, tid) not in conflicts]
        # Least loaded first, ties in the target's own random order: (load, key XOR target key, id).
        pool = [i for _, _, i in sorted([(load[i], ik ^ tkey, i) for i, ik in grid_ids])]
        fallback: list[int] = []
        if len(pool) < k and plan.inspector_fallback == "district":
            taken = set(pool)
            fallback = [i for i in by_district.get(cand.jurisdiction_id, [])
                        if i not in taken and (i, tid) not in conflicts]
            pool += sorted(fallback, key=lambda i: (load[i], ikey[i] ^ tkey, i))
        reason = None
        if len(pool) < k:
            where = f"网格内 {all_by_grid.get(cand.grid_id, 0)} 人" if cand.grid_id is not None else "单位未划入网格"
            valid_in_grid = len(by_grid.get(cand.grid_id, ())) if cand.grid_id is not None else 0
            reason = (f"可选检查人员不足 {k} 人：{where}，其中执法证在抽查期间持续有效 {valid_in_grid} 人，"
                      f"无利益冲突 {len(grid_ids)} 人"
                      + (f"；区县备选 {len(fallback)} 人" if plan.inspector_fallback == "district" else "；计划不允许跨网格备选"))
            chosen: tuple[int, ...] = ()
        else:
            chosen = tuple(pool[:k])
            last = last_pairs.get(tid)
            if last is not None and set(chosen) == set(last):
                if len(pool) > k:
                    chosen = tuple(pool[:k - 1]) + (pool[k],)
                else:
                    reason = "唯一可选的检查人员组合与上次检查该单位的组合相同"
                    chosen = ()
        if chosen:
            paired += 1
            for i in chosen:
                load[i] += 1
        targets[n] = Target(tid, target.stratum, target.reason, target.position, chosen, reason)
    spreads = {}
    for g, ids in by_grid.items():
        loads = [load[i] for i in ids]
        if any(loads):
            spreads[g] = max(loads) - min(loads)
    used = [v for v in load.values() if v]
    worst = max(spreads.values(), default=0)
    outcome.pairing = {
        "targets_paired": paired, "targets_without_pair": len(outcome.targets) - paired,
        "inspectors_eligible": len(valid), "inspectors_used": len(used),
        "load_min": min(used, default=0), "load_max": max(used, default=0),
        "largest_grid_spread": worst, "workload_tolerance": plan.workload_tolerance,
        "balanced": worst <= plan.workload_tolerance,
        "grids_over_tolerance": sorted(g for g, v in spreads.items() if v > plan.workload_tolerance),
    }


def draw(plan: Plan, seed: str, candidates: list[Candidate], inspectors: list[InspectorRow],
         conflicts: set[tuple[int, int]], last_pairs: dict[int, tuple[int, ...]]) -> Outcome:
    outcome = select_targets(plan, seed, candidates)
    pair_inspectors(plan, seed, outcome, {c.id: c for c in candidates}, inspectors, conflicts, last_pairs)
    return outcome


# --- the stored, exported and hashed form of the inputs ---------------------------------------

CANDIDATE_HEADER = "establishment_id,stratum,grid_id,jurisdiction_id,high_risk"


def candidates_text(candidates: list[Candidate]) -> str:
    """One line per candidate, sorted by id, under a header; its SHA-256 is the candidate digest."""
    lines = [CANDIDATE_HEADER]
    lines += [f"{c.id},{c.stratum},{'' if c.grid_id is None else c.grid_id},{c.jurisdiction_id},{int(c.high_risk)}"
              for c in sorted(candidates, key=lambda c: c.id)]
    return "\n".join(lines) + "\n"


def parse_candidates(text: str) -> list[Candidate]:
    rows = text.splitlines()
    if not rows or rows[0] != CANDIDATE_HEADER:
        raise ValueError("candidate list without its header")
    out = []
    for line in rows[1:]:
        i, s, g, j, h = line.split(",")
        out.append(Candidate(int(i), s, int(g) if g else None, int(j), h == "1"))
    return out


def pairing_inputs(inspectors: list[InspectorRow], conflicts: set[tuple[int, int]],
                   last_pairs: dict[int, tuple[int, ...]]) -> dict:
    return {
        "inspectors": [[i.id, i.jurisdiction_id, sorted(i.grid_ids), i.valid_from.isoformat(), i.valid_until.isoformat()]
                       for i in sorted(inspectors, key=lambda i: i.id)],
        "conflicts": sorted([list(c) for c in conflicts]),
        "last_pairs": {str(k): sorted(v) for k, v in sorted(last_pairs.items())},
    }


def parse_pairing_inputs(data: dict):
    inspectors = [InspectorRow(r[0], r[1], tuple(r[2]), date.fromisoformat(r[3]), date.fromisoformat(r[4]))
                  for r in data["inspectors"]]
    conflicts = {(a, b) for a, b in data["conflicts"]}
    last_pairs = {int(k): tuple(v) for k, v in data["last_pairs"].items()}
    return inspectors, conflicts, last_pairs


def result_text(targets: list[Target]) -> str:
    """The result, one line per target in draw order; its SHA-256 is the result digest."""
    lines = ["position,establishment_id,stratum,reason,inspector_ids,no_pair_reason"]
    for t in sorted(targets, key=lambda t: t.position):
        lines.append(f"{t.position},{t.id},{t.stratum},{t.reason},{' '.join(map(str, t.inspector_ids))},"
                     f"{(t.no_pair_reason or '').replace(',', '，')}")
    return "\n".join(lines) + "\n"
