"""Hand-built census returns for measure tests: every row is written out, so expected counts are exact."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import polars as pl

from cin_assets import reference
from cin_assets.census import tables

D = dt.date
BORN = D(2010, 6, 1)  # default date of birth: 9 at 31 March 2020


class Census:
    """One reporting year's staging tables, built child by child."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self._children: set[tuple[str, str]] = set()
        self._ids: dict[tuple, int] = defaultdict(int)

    def _next(self, *key: object) -> int:
        self._ids[key] += 1
        return self._ids[key]

    def _key(self, la: str, child: str) -> dict:
        return {"reporting_year": self.year, "la_code": la, "LAchildID": child}

    def child(
        self,
        la: str,
        child: str,
        *,
        dob: dt.date | None = BORN,
        expected: dt.date | None = None,
        gender: str = "1",
        ethnicity: str = "WBRI",
        disabilities: Iterable[str] = (),
    ) -> Census:
        self._children.add((la, child))
        self.rows["children"].append(
            {
                **self._key(la, child),
                "PersonBirthDate": dob,
                "ExpectedPersonBirthDate": expected,
                "GenderCurrent": gender,
                "Ethnicity": ethnicity,
            }
        )
        for code in disabilities:
            self.rows["disabilities"].append({**self._key(la, child), "Disability": code})
        return self

    def episode(
        self,
        la: str,
        child: str,
        referral: dt.date,
        closure: dt.date | None = None,
        *,
        reason: str | None = None,
        nfa: bool = False,
        source: str | None = "1A",
        need: str | None = "N1",
        icpc: dt.date | None = None,
    ) -> int:
        if (la, child) not in self._children:
            self.child(la, child)
        episode = self._next(la, child)
        self.rows["episodes"].append(
            {
                **self._key(la, child),
                "episode_id": episode,
                "CINreferralDate": referral,
                "ReferralSource": source,
                "PrimaryNeedCode": need,
                "CINclosureDate": closure,
                "ReasonForClosure": reason if reason or closure is None else "RC7",
                "DateOfInitialCPC": icpc,
                "ReferralNFA": nfa,
            }
        )
        return episode

    def assessment(
        self,
        la: str,
        child: str,
        episode: int,
        start: dt.date,
        authorised: dt.date | None = None,
        factors: Iterable[str] = (),
    ) -> int:
        assessment = self._next(la, child, episode, "assessment")
        self.rows["assessments"].append(
            {
                **self._key(la, child),
                "episode_id": episode,
                "assessment_id": assessment,
                "AssessmentActualStartDate": start,
                "AssessmentAuthorisationDate": authorised,
            }
        )
        for code in factors:
            self.rows["assessment_factors"].append(
                {
                    **self._key(la, child),
                    "episode_id": episode,
                    "assessment_id": assessment,
                    "AssessmentFactors": code,
                }
            )
        return assessment

    def s47(self, la: str, child: str, episode: int, start: dt.date, icpc: dt.date | None = None) -> None:
        self.rows["section47"].append(
            {
                **self._key(la, child),
                "episode_id": episode,
                "s47_id": self._next(la, child, episode, "s47"),
                "S47ActualStartDate": start,
                "DateOfInitialCPC": icpc,
                "ICPCnotRequired": icpc is None,
            }
        )

    def cpp(
        self,
        la: str,
        child: str,
        episode: int,
        start: dt.date,
        end: dt.date | None = None,
        *,
        initial: str = "NEG",
        latest: str | None = None,
        previous: int = 0,
        reviews: Iterable[dt.date] = (),
    ) -> None:
        plan = self._next(la, child, episode, "cpp")
        self.rows["cpps"].append(
            {
                **self._key(la, child),
                "episode_id": episode,
                "cpp_id": plan,
                "CPPstartDate": start,
                "CPPendDate": end,
                "InitialCategoryOfAbuse": initial,
                "LatestCategoryOfAbuse": latest or initial,
                "NumberOfPreviousCPP": previous,
            }
        )
        for n, date in enumerate(reviews, start=1):
            self.rows["cpp_reviews"].append(
                {
                    **self._key(la, child),
                    "episode_id": episode,
                    "cpp_id": plan,
                    "review_id": n,
                    "CPPreviewDate": date,
                }
            )

    def tables(self) -> dict[str, pl.DataFrame]:
        out = {}
        for name in tables.CHILD_TABLES:
            rows = self.rows.get(name, [])
            out[name] = (
                tables.conform(name, pl.DataFrame(rows, infer_schema_length=None))
                if rows
                else tables.empty(name)
            )
        return out


def value(frame: pl.DataFrame, column: str, geo: str = "E92000001", **filters: str) -> object:
    """One cell: ``geo`` is an LA code, a region code or E92000001."""
    if "old_la_code" in frame.columns:
        level = pl.col("geographic_level")
        key = (
            pl.when(level == "National")
            .then(pl.col("country_code"))
            .when(level == "Regional")
            .then(pl.col("region_code"))
            .otherwise(pl.col("old_la_code"))
        )
    else:
        key = pl.col("country_code")
    rows = frame.filter(key == geo, *(pl.col(k) == v for k, v in filters.items()))
    assert rows.height == 1, f"{rows.height} rows for {geo} {filters}"
    return rows[column].item()


def random_census(year: int, episodes: int = 3000, seed: int = 0) -> dict[str, pl.DataFrame]:
    """A random but well-formed census for structural checks (sums, geography, schemas): every LA of the
    year, children with one or two episodes, assessments, factors, S47s, ICPCs, plans and reviews."""
    rng = np.random.default_rng(seed)
    las = reference.local_authorities(year)["old_la_code"].to_list()
    census = Census(year)
    start = D(year - 1, 4, 1)
    for n in range(episodes):
        la = las[int(rng.integers(len(las)))]
        child = f"C{n}"
        unborn = rng.random() < 0.02
        census.child(
            la,
            child,
            dob=None if unborn else start - dt.timedelta(days=int(rng.integers(0, 18 * 365))),
            expected=start + dt.timedelta(days=400) if unborn else None,
            gender=str(rng.choice(["1", "2", "0", "9"], p=[0.5, 0.47, 0.02, 0.01])),
            ethnicity=str(rng.choice(["WBRI", "MWBC", "AIND", "BAFR", "CHNE", "REFU", "NOBT", "XXXX"])),
            disabilities=[
                str(d) for d in rng.choice(["NONE", "AUT", "LD", "MOB"], size=int(rng.integers(0, 3)))
            ],
        )
        referral = start + dt.timedelta(days=int(rng.integers(-900, 365)))
        closed = rng.random() < 0.5
        closure = referral + dt.timedelta(days=int(rng.integers(0, 800))) if closed else None
        if closure is not None and closure < start:
            closure = start + dt.timedelta(days=int(rng.integers(0, 365)))
        if closure is not None and closure > D(year, 3, 31):
            closure = None
        kind = rng.random()
        nfa = kind < 0.06 and referral >= start
        reason = (
            "RC8"
            if (0.06 <= kind < 0.3 and closure)
            else str(rng.choice(["RC1", "RC2", "RC5", "RC7", "RC7"]))
        )
        episode = census.episode(
            la,
            child,
            referral,
            closure if not nfa else referral,
            reason=(reason if closure else None) if not nfa else "RC8",
            nfa=nfa,
            source=str(rng.choice(["1A", "2A", "3B", "5A", "6", "9", "10", "ZZ"])),
            need=str(rng.choice(["N1", "N2", "N5", "N0"])) if rng.random() < 0.95 else None,
        )
        if nfa:
            continue
        a_start = max(referral, start - dt.timedelta(days=20))
        authorised = a_start + dt.timedelta(days=int(rng.integers(0, 90)))
        census.assessment(
            la,
            child,
            episode,
            a_start,
            authorised if authorised <= D(year, 3, 31) else None,
            factors=[
                str(f)
                for f in rng.choice(["3B", "4B", "1B", "21", "18A", "8C"], size=int(rng.integers(0, 3)))
            ],
        )
        if rng.random() < 0.3 and referral >= start:
            s47_start = referral + dt.timedelta(days=int(rng.integers(0, 10)))
            icpc = s47_start + dt.timedelta(days=int(rng.integers(1, 30))) if rng.random() < 0.5 else None
            if icpc is not None and icpc.weekday() >= 5:
                icpc += dt.timedelta(days=7 - icpc.weekday())
            if icpc is not None and icpc > D(year, 3, 31):
                icpc = None
            census.s47(la, child, episode, s47_start, icpc)
            if icpc is not None:
                end = icpc + dt.timedelta(days=int(rng.integers(30, 500)))
                census.cpp(
                    la,
                    child,
                    episode,
                    icpc,
                    end if end <= D(year, 3, 31) else None,
                    initial=str(rng.choice(["NEG", "PHY", "SAB", "EMO", "MUL"])),
                    previous=int(rng.integers(0, 2)),
                    reviews=[icpc + dt.timedelta(days=int(d)) for d in (80, 250) if rng.random() < 0.8],
                )
    return census.tables()


def replicated_census(year: int, las: Iterable[str], copies: int = 6) -> dict[str, pl.DataFrame]:
    """A census where every count is a multiple of ``copies`` (each child history appears ``copies`` times
    in each LA of ``las``), so with ``copies`` above the suppression threshold nothing is a small count:
    disclosure control runs without primary suppressions and every published value is predictable."""
    c = Census(year)
    s = D(year - 1, 4, 1)
    for la in las:
        for n in range(copies):
            # open at 31 March with an assessment, factors, a section 47, an ICPC and a reviewed plan
            e = c.episode(la, f"a{n}", s + dt.timedelta(days=30), source="6", need="N1")
            c.assessment(
                la, f"a{n}", e, s + dt.timedelta(days=31), s + dt.timedelta(days=60), factors=["3B", "4B"]
            )
            c.s47(la, f"a{n}", e, D(year - 1, 5, 6), D(year - 1, 5, 24))
            c.cpp(
                la, f"a{n}", e, D(year - 1, 5, 24), initial="NEG", reviews=[D(year - 1, 8, 1), D(year, 1, 6)]
            )
            # referred last year, closed this year; a plan that ended in the first half of the year
            e = c.episode(
                la, f"b{n}", D(year - 2, 11, 1), s + dt.timedelta(days=200), reason="RC7", need="N5"
            )
            c.cpp(la, f"b{n}", e, D(year - 2, 12, 2), s + dt.timedelta(days=100), initial="EMO", previous=1)
            # a referral with no further action and one assessed as not in need
            c.child(la, f"c{n}", dob=D(year - 15, 2, 1), gender="2", ethnicity="BAFR", disabilities=["AUT"])
            c.episode(
                la, f"c{n}", s + dt.timedelta(days=90), s + dt.timedelta(days=90), reason="RC8", nfa=True
            )
            e = c.episode(la, f"c{n}", s + dt.timedelta(days=120), s + dt.timedelta(days=150), reason="RC8")
            c.assessment(
                la, f"c{n}", e, s + dt.timedelta(days=121), s + dt.timedelta(days=150), factors=["21"]
            )
            # an unborn child in need at 31 March
            c.child(la, f"u{n}", dob=None, expected=D(year, 7, 1), gender="0", ethnicity="NOBT")
            c.episode(la, f"u{n}", D(year, 2, 3), source="3B", need="N1")
    return c.tables()
