"""``cin-synth``: write a synthetic CIN census (one XML return per LA per year) calibrated to published data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cin_assets.census import calendar
from cin_assets.synth.generate import LaResult, declare_exceptions, generate_census


def _years(text: str) -> list[int]:
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        years.extend(range(int(first), int(last or first) + 1))
    return years


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cin-synth", description=__doc__)
    parser.add_argument("--years", default=f"{calendar.FIRST_YEAR}-{calendar.LAST_YEAR}",
                        help="reporting years, e.g. 2013-2020 or 2019,2020 (default: %(default)s)")  # fmt: skip
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the published volumes (default 1)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", required=True, help="output folder: <out>/<year>/<LA code>.xml")
    parser.add_argument("--la", help="comma-separated 3-digit LA codes (default: every LA)")
    parser.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
    args = parser.parse_args(argv)
    las = [c.strip() for c in args.la.split(",")] if args.la else None
    started = time.perf_counter()
    totals = {"files": 0, "children": 0, "bytes": 0}

    def report(r: LaResult) -> None:
        n = sum(s.children for s in r.returns)
        size = sum(s.bytes for s in r.returns)
        totals["files"] += len(r.returns)
        totals["children"] += n
        totals["bytes"] += size
        print(
            f"LA {r.la_code}: {len(r.returns)} returns, {n:,} child records, {size / 1e6:.1f} MB", flush=True
        )

    try:
        generate_census(args.out, _years(args.years), args.scale, args.seed, las, args.workers, report)
        # no return from Hackney 2021-2022 and Hampshire 2024, as in reality: declared in the data root
        # (the folder holding the census folder), where the return inventory reads them
        print(
            f"declared exceptions in {declare_exceptions(Path(args.out).resolve().parent, _years(args.years))}"
        )
    except ValueError as exc:
        print(f"cin-synth: {exc}", file=sys.stderr)
        return 2
    took = time.perf_counter() - started
    print(f"wrote {totals['files']} returns, {totals['children']:,} child records, "
          f"{totals['bytes'] / 1e6:.1f} MB in {took:.1f} s to {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
