"""The soak's printed report (bench/soak.py): traffic, errors, latency, memory, consistency."""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from typing import Any

KILL_WINDOW = 10.0  # an error this many seconds after a kill coincides with it
FLAT_MB_PER_HOUR = 10.0  # the within-life RSS slope below which memory counts as flat

Sample = tuple[float, str, int, float]  # (time, role, pid, RSS MB)


def within_life_slope(samples: list[Sample]) -> float | None:
    """MB per hour: the least-squares slope pooled over each process life (one pid), so a
    restart's fresh process does not read as a drop."""
    lives: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for at, _, pid, mb in samples:
        lives[pid].append((at, mb))
    num = den = 0.0
    for points in lives.values():
        if len(points) < 6:
            continue
        t0 = statistics.fmean(t for t, _ in points)
        m0 = statistics.fmean(m for _, m in points)
        num += sum((t - t0) * (m - m0) for t, m in points)
        den += sum((t - t0) ** 2 for t, _ in points)
    return num / den * 3600 if den else None


def memory_lines(samples: list[Sample], started: float, elapsed: float) -> list[str]:
    lines = [f"{'RSS (MB)':<18}{'first 5 min':>12}{'last 5 min':>12}{'slope MB/h':>12}{'lives':>7}"]
    window = min(300.0, elapsed / 2)
    for role in ("gunicorn master", "gunicorn workers", "worker", "scheduler"):
        mine = [s for s in samples if s[1] == role]
        first = [s[3] for s in mine if s[0] < started + window]
        last = [s[3] for s in mine if s[0] > started + elapsed - window]
        slope = within_life_slope(mine)
        lives = len({s[2] for s in mine})
        lines.append(
            f"{role:<18}{statistics.fmean(first) if first else 0:>12.1f}"
            f"{statistics.fmean(last) if last else 0:>12.1f}"
            f"{slope if slope is not None else float('nan'):>12.1f}{lives:>7}"
        )
    return lines


def error_lines(stats: Any) -> list[str]:
    kinds = sorted({what for _, what in stats.errors})
    lines = []
    for what in kinds:
        times = [at for at, w in stats.errors if w == what]
        near: dict[str, int] = defaultdict(int)
        for at in times:
            for killed_at, role in stats.kills:
                if 0 <= at - killed_at <= KILL_WINDOW:
                    near[role] += 1
                    break
        after = ", ".join(f"{n} after killing the {role}" for role, n in near.items()) or "none"
        lines.append(f"  {what}: {len(times)} (within {KILL_WINDOW:.0f} s of a kill: {after})")
    for what, text in stats.first_error.items():
        lines.append(f"  first {what} error: {text}")
    return lines or ["  none"]


def report(
    args: argparse.Namespace,
    stats: Any,
    samples: list[Sample],
    started: float,
    elapsed: float,
    checked: tuple[dict[str, Any], list[str]],
) -> int:
    figures, problems = checked
    served = sum(stats.served.values())
    kills = kill_counts(stats.kills)
    print(
        f"soak: {elapsed / 60:.1f} min at {args.rate:g} actions/s; gunicorn 2 sync workers + "
        f"worker + scheduler on PostgreSQL; kills every {args.kill_every:g} s: {kills}"
    )
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(stats.served.items()))
    print(f"requests served: {served} ({served / elapsed:.1f}/s): {by_kind}")
    print("errors:")
    print("\n".join(error_lines(stats)))
    cuts = statistics.quantiles(stats.latencies, n=100) if len(stats.latencies) > 1 else [0] * 99
    print(f"latency: p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms")
    print("\n".join(memory_lines(samples, started, elapsed)))
    for text, n in stats.odd.most_common(5):
        print(f"  report answered without a ticket number ×{n}: {text!r}")
    print("consistency:", ", ".join(f"{k} {v}" for k, v in figures.items()))
    for problem in problems:
        print("  PROBLEM:", problem)
    five_xx = sum(1 for _, what in stats.errors if what == "5xx")
    ok = not problems and five_xx == 0
    print(f"targets (0 5xx, consistent): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


def kill_counts(kills: list[tuple[float, str]]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for _, role in kills:
        counts[role] += 1
    return ", ".join(f"{role} ×{n}" for role, n in counts.items()) or "none"
