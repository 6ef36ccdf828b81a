"""Cut one reporting year's return out of an LA history and write it as that year's CIN census XML.

What a return holds (the DfE scope): every child with an episode active at some time in the year (referred
in the year or open on 1 April), with only what is visible at 31 March: closure dates, authorisations,
conference dates and plan ends that fall later are left out (an open item), assessments appear when open or
authorised in the year, S47 enquiries when started or conferenced in the year, plans when open at some time
in the year, and reviews held in the year. Element order follows the 2019-20 schema exactly, with each
later collection's changes from its year (:data:`FORMAT`): the header Content block up to 2020-21, abuse
factors split by who the abuser was from 2020-21, CIN plans and factor 24A from 2021-22, RC9 and referral
source 5D from 2022-23, Sex instead of GenderCurrent from 2024-25.

The XML is assembled as strings with polars (one vectorised expression per element type, nested by
group-joins), not as a DOM per child: a national year is ~1 GB of XML.
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata

import numpy as np
import polars as pl

from cin_assets.census.codes import DISABILITIES, FACTOR_FROM, FACTORS, NO_DISABILITY, NO_FACTORS, RC9_FROM
from cin_assets.census.tables import CIN_PLANS_FROM, LAST_CONTENT_YEAR, SEX_FROM
from cin_assets.synth import calibration
from cin_assets.synth.attributes import Attributes
from cin_assets.synth.simulate import CIN, NIN, History, day

_FIDX = {c: i for i, c in enumerate(FACTORS)}  # factors are written in the schema's order
_ABUSE_FACTOR = {"NEG": ["16A"], "PHY": ["18A"], "SAB": ["19A"], "EMO": ["17A"], "MUL": ["16A", "17A"]}
# From 2020-21 a plan's physical or sexual abuse is recorded as adult-on-child abuse (18C, 19C).
_ABUSE_FACTOR_SPLIT = {**_ABUSE_FACTOR, "PHY": ["18C"], "SAB": ["19C"]}
# First reporting year of each format change the generator writes (see the module docstring).
FORMAT = {
    "factor_split": FACTOR_FROM["18B"],
    "cin_plans": CIN_PLANS_FROM,
    "early_help": RC9_FROM,
    "sex": SEX_FROM,
    "no_content": LAST_CONTENT_YEAR + 1,
}
# RC9 and 5D are not in any published table: an assumed share of RC8 closures (referred to early help) and of
# other-internal LA referrals (5B) from early help, chosen per episode by a fixed hash so every return agrees.
_RC9_SHARE, _5D_SHARE = 0.4, 0.5
_SEX = {"1": "M", "2": "F", "0": "U", "9": "U"}
_LEARNING = sum(1 << DISABILITIES.index(c) for c in ("LD", "AUT", "COMM", "BEH"))
_IND = "  "
try:
    RELEASE = metadata.version("cin_assets")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    RELEASE = "0+unknown"


def _date(col: pl.Expr) -> pl.Expr:
    return pl.when(col >= 0).then(col.cast(pl.Int32).cast(pl.Date).dt.to_string("%Y-%m-%d"))


def _text(col: pl.Expr) -> pl.Expr:
    """Empty string -> null (not written)."""
    return pl.when(col != "").then(col)


def _el(name: str, value: pl.Expr, depth: int) -> pl.Expr:
    """``<name>value</name>`` on its own line, or null (skipped) where value is null."""
    return pl.concat_str([pl.lit(f"{_IND * depth}<{name}>"), value, pl.lit(f"</{name}>\n")])


def _open(name: str, depth: int) -> pl.Expr:
    return pl.lit(f"{_IND * depth}<{name}>\n")


def _close(name: str, depth: int) -> pl.Expr:
    return pl.lit(f"{_IND * depth}</{name}>\n")


def _nest(frame: pl.DataFrame, key: str, xml: str = "xml") -> pl.DataFrame:
    """Concatenate the ``xml`` strings of each ``key`` group, keeping row order."""
    return frame.group_by(key, maintain_order=True).agg(pl.col(xml).str.join(""))


def _attach(parent: pl.DataFrame, child: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
    nested = _nest(child, key).rename({"xml": name})
    return parent.join(nested, on=key, how="left", maintain_order="left")


def _factors(h: History, a: Attributes, rows: np.ndarray, rates: dict[str, float],
             rng: np.random.Generator, year: int, base: int | None = None) -> pl.DataFrame:  # fmt: skip
    """Factors for assessments authorised in the year (each assessment is shown authorised only once).

    Rates are the LA's published C3 shares that year, of the episodes with a factor (so the not-in-need
    assessments that record "21", no factors, alone (rule 8869) are left out of the base); plans bring their
    abuse category's factor (only as many as the factor's count allows); a disabled child's assessments
    record 5A or 6A (query 8899Q) as far as the factor's count allows (England 2020: 74,970, fewer than
    the assessments of disabled children, so real returns raise 8899Q and so do the generated ones);
    a CIN assessment records at least one factor (8897Q). The forced factors count towards their factor's
    count (its rate times the episodes with a factor, rounded): only the rest is drawn, exactly, among the
    other assessments. With ``base`` (the LA's published episodes with a factor), as many not-in-need
    assessments of children without a disability record "21" alone as bring the episodes with a factor to
    it (else 45% of them).

    C3 counts episodes (the distinct factors of their assessments completed in the year), so factors are
    drawn per episode, and an episode's other assessments in the year record the same ones.
    """
    episode, row_episode = np.unique(h.assessments["episode"][rows], return_inverse=True)
    n = len(episode)
    child = h.episodes["child"][episode]
    mask = a.disability[child]
    nin = h.episodes["kind"][episode] == NIN
    eligible = nin & (mask == 0)
    if base is None:
        none_found = eligible & (rng.random(n) < 0.45)
    else:
        # beyond the not-in-need assessments, children in need still open at 31 March with no plan (rule
        # 8873Q checks closed episodes only) record "21" alone where DfE's count leaves that many
        still_open = ~nin & (mask == 0) & (h.episodes["close"][episode] > day(dt.date(year, 3, 31)))
        still_open &= ~np.isin(episode, h.cpps["episode"])
        none_found = np.zeros(n, dtype=bool)
        order = np.concatenate(
            [rng.permutation(np.flatnonzero(eligible)), rng.permutation(np.flatnonzero(still_open))]
        )
        none_found[order[: max(n - base, 0)]] = True
    disabled = np.flatnonzero(mask > 0)
    forced = [
        pl.DataFrame(
            {"row": disabled.astype(np.int64), "code": np.where(mask[disabled] & _LEARNING, "5A", "6A")}
        )
    ]
    # the episode's plans bring their initial category of abuse as a factor
    with_plan = np.isin(h.cpps["episode"], episode)
    forced.append(
        pl.DataFrame({"episode": h.cpps["episode"][with_plan], "cat": a.cpp_initial[with_plan].astype(str)})
        .join(pl.DataFrame({"row": np.arange(n, dtype=np.int64), "episode": episode}), on="episode")
        .select(
            "row",
            pl.col("cat")
            .replace_strict(
                _ABUSE_FACTOR_SPLIT if year >= FORMAT["factor_split"] else _ABUSE_FACTOR,
                return_dtype=pl.List(pl.String),
            )
            .alias("code"),
        )
        .explode("code")
        .unique()
        .sort("row", "code")
    )
    forced_pairs = pl.concat(forced).filter(~pl.col("row").is_in(np.flatnonzero(none_found)))
    names = list(calibration.FACTOR_COLUMNS)
    codes = np.array([calibration.FACTOR_COLUMNS[k] for k in names], dtype=object)
    column = {code: i for i, code in enumerate(codes)}
    # each factor's count is its rate of DfE's base, even where this LA has fewer assessed episodes
    with_factor = n - int(none_found.sum()) if base is None else base
    target = np.array([rates[k] for k in names]) * with_factor
    # keep a random subset of each factor's forced pairs, at most its target
    fc = forced_pairs["code"].to_numpy()
    col = np.array([column.get(c, -1) for c in fc], dtype=np.int64)
    order = np.lexsort((rng.random(len(col)), col))
    rank = np.empty(len(col), dtype=np.int64)
    first = np.searchsorted(col[order], col[order])
    rank[order] = np.arange(len(col)) - first
    # (a disabled child's 5A/6A is kept only up to the factor's count: real LAs do not always record it,
    # so, as in real returns, some assessments of disabled children raise query 8899Q)
    keep = (col < 0) | (rank < np.rint(target[np.maximum(col, 0)]))
    forced_pairs = forced_pairs.filter(pl.Series(keep))
    fr, col = forced_pairs["row"].to_numpy(), col[keep]
    taken = np.zeros((n, len(names)), dtype=bool)
    taken[fr[col >= 0], col[col >= 0]] = True
    taken[none_found] = True  # (not drawn)
    # exactly the rest of each factor's target, among the assessments that do not have it yet
    wanted = np.rint(target).astype(np.int64) - (taken.sum(axis=0) - int(none_found.sum()))
    # each assessment with no factor yet first takes one, drawn from what the factors' counts leave, so the
    # "other" filler below is needed only where those run out (an LA that never records "other", such as
    # West Sussex, publishes none); the rest of each count goes to assessments at random
    bare = rng.permutation(np.flatnonzero(~taken.any(axis=1) & ~(nin & (base is None))))
    slots = np.maximum(wanted, 0)
    share = rng.multivariate_hypergeometric(slots, min(len(bare), int(slots.sum())))
    first = (bare[: share.sum()], rng.permutation(np.repeat(np.arange(len(names)), share)))
    taken[first] = True
    wanted -= share
    keys = np.where(taken, 2.0, rng.random((n, len(names))))
    rank = np.empty((n, len(names)), dtype=np.int64)
    np.put_along_axis(rank, np.argsort(keys, axis=0), np.arange(n)[:, None], axis=0)
    hit = (rank < wanted[None, :]) & ~taken
    hit[first] = True
    r, c = np.nonzero(hit)
    code = codes[c]
    fostered = code == "8"
    code[fostered] = calibration.distribution("private_fostering_factor")[0][
        rng.choice(5, size=int(fostered.sum()), p=calibration.distribution("private_fostering_factor")[1])
    ]
    per_row = np.bincount(np.concatenate([r, fr]), minlength=n)
    per_row[none_found] = 1
    empty = np.flatnonzero(per_row == 0)
    # an assessment with no factor drawn records "other" (20; with no base, no factors if not in need): as
    # many drawn "other" factors are dropped from assessments that keep another factor
    filler = np.where(nin[empty] & (base is None), NO_FACTORS, "20")
    other = np.flatnonzero(c == column["20"])
    surplus = len(other) + int((filler == "20").sum()) - round(float(target[column["20"]]))
    drop = _pick_some(rng, other[per_row[r[other]] > 1], surplus)
    r, code = np.delete(r, drop), np.delete(code, drop)
    none_found = np.flatnonzero(none_found)
    pairs = pl.concat([pl.DataFrame({"row": r.astype(np.int64), "code": code.astype(str)}), forced_pairs])
    pairs = pl.concat(
        [pairs, pl.DataFrame({"row": np.concatenate([none_found, empty]).astype(np.int64),
                              "code": np.concatenate([np.full(len(none_found), NO_FACTORS), filler]).astype(str)})]
    )  # fmt: skip
    order = pl.col("code").replace_strict(_FIDX, return_dtype=pl.Int32)
    assessments = pl.DataFrame(
        {"episode_row": row_episode.astype(np.int64), "assessment": np.arange(len(rows))}
    )
    pairs = pairs.join(assessments, left_on="row", right_on="episode_row").select(
        pl.col("assessment").alias("row"), "code"
    )
    return (
        pairs.unique()
        .sort("row", order)
        .with_columns(xml=_el("AssessmentFactors", pl.col("code"), 6))
        .pipe(_nest, "row")
        .rename({"xml": "factors"})
    )


def _pick_some(rng: np.random.Generator, rows: np.ndarray, k: int) -> np.ndarray:
    """``k`` of ``rows`` at random (all of them when fewer, none when ``k`` <= 0)."""
    return rng.permutation(rows)[: max(k, 0)]


def _hashed(rows: np.ndarray, share: float) -> np.ndarray:
    """A fixed pseudo-random ``share`` of rows (Knuth's multiplicative hash of the row index): the same
    episode is chosen in every return, whatever the seed of the return."""
    return (rows.astype(np.uint64) * np.uint64(2654435761) % np.uint64(1000)) < np.uint64(share * 1000)


def _reason(reason: np.ndarray, rows: np.ndarray, year: int) -> np.ndarray:
    """From 2022-23 part of the RC8 closures are RC9 (closed after assessment, referred to early help)."""
    reason = reason.astype(object)
    if year >= FORMAT["early_help"]:
        reason[(reason == "RC8") & _hashed(rows, _RC9_SHARE)] = "RC9"
    return reason.astype(str)


def _source(source: np.ndarray, ref: np.ndarray, rows: np.ndarray, year: int) -> np.ndarray:
    """From 2022-23 part of the referrals from other LA services (5B) made since 1 April 2022 come from
    early help (5D)."""
    source = source.astype(object)
    if year >= FORMAT["early_help"]:
        since = ref >= day(dt.date(FORMAT["early_help"] - 1, 4, 1))
        source[(source == "5B") & since & _hashed(rows + 7, _5D_SHARE)] = "5D"
    return source.astype(str)


def _cin_plans(h: History, a: Attributes, e_rows: np.ndarray, shown_close: np.ndarray,
               end: int) -> pl.DataFrame:  # fmt: skip
    """One CIN plan per children-in-need episode of a child who is never on a protection plan and never
    dies in the history: from its first authorised assessment to the closure shown (open while the episode
    is). Keeps rules 4000-4017 and 2990: no plan on NFA/RC8 episodes, beside or across a protection plan,
    after death, or starting and ending the same day."""
    kind = h.episodes["kind"][e_rows]
    child = h.episodes["child"][e_rows]
    on_cpp = np.isin(child, h.episodes["child"][h.cpps["episode"]])
    died = a.death[child] >= 0
    first_auth = (
        pl.DataFrame({"episode": h.assessments["episode"], "auth": h.assessments["auth"]})
        .filter((pl.col("auth") >= 0) & (pl.col("auth") <= end))
        .group_by("episode")
        .agg(pl.col("auth").min())
    )
    plans = (
        pl.DataFrame(
            {
                "episode": e_rows,
                "close": shown_close,
                "ok": (kind == CIN) & ~on_cpp & ~died & (a.reason[e_rows] != "RC8"),
            }
        )
        .join(first_auth, on="episode", how="inner", maintain_order="left")
        .filter(
            pl.col("ok")
            & (pl.col("auth") <= end)
            & ((pl.col("close") < 0) | (pl.col("close") > pl.col("auth")))
        )
    )
    return plans.with_columns(
        xml=pl.concat_str(
            [
                _open("CINPlanDates", 4),
                _el("CINPlanStartDate", _date(pl.col("auth")), 5),
                _el("CINPlanEndDate", _date(pl.col("close")), 5),
                _close("CINPlanDates", 4),
            ],
            ignore_nulls=True,
        )
    ).select("episode", "xml")


def cut(h: History, year: int) -> dict[str, np.ndarray]:
    """Row indices of each History table in reporting ``year``'s return (see the module docstring)."""
    start, end = day(dt.date(year - 1, 4, 1)), day(dt.date(year, 3, 31))
    active = h.in_return(year)
    episodes = np.flatnonzero(active)
    asm = h.assessments
    a_auth = asm["auth"]
    assessments = np.flatnonzero(
        active[asm["episode"]] & (asm["start"] <= end) & ((a_auth > end) | (a_auth >= start))
    )
    s = h.s47
    s47 = np.flatnonzero(
        active[s["episode"]]
        & (s["start"] <= end)
        & ((s["start"] >= start) | ((s["icpc"] >= start) & (s["icpc"] <= end)))
    )
    c = h.cpps
    # a plan the history leaves out of a return (hidden: from that year on) is in none after it either
    shown = (c["hidden"] < 0) | (c["hidden"] > year)
    cpps = np.flatnonzero(active[c["episode"]] & (c["start"] <= end) & (c["end"] >= start) & shown)
    return {"episodes": episodes, "assessments": assessments, "s47": s47, "cpps": cpps}


def render(h: History, a: Attributes, la_code: str, year: int, rates: dict[str, float],
           rng: np.random.Generator, stamp: str, factor_base: int | None = None) -> str:  # fmt: skip
    """The XML text of ``la_code``'s return for reporting ``year`` (``stamp``: Header DateTime;
    ``factor_base``: the published number of episodes with a factor, see :func:`_factors`)."""
    start, end = day(dt.date(year - 1, 4, 1)), day(dt.date(year, 3, 31))
    rows = cut(h, year)
    ep = h.episodes
    e_rows = rows["episodes"]
    children = h.children_of(e_rows)
    dob = h.children["dob"][children]
    born = dob <= end

    # plans and reviews
    c_rows = rows["cpps"]
    c_end = h.cpps["end"][c_rows]
    rev = h.cpps["reviews"][c_rows]
    in_year = (
        (rev >= start) & (rev <= end) & (rev <= c_end[:, None]) & (rev > h.cpps["start"][c_rows][:, None])
    )
    rr, rc = np.nonzero(in_year)
    reviews = pl.DataFrame({"cpp": c_rows[rr], "date": rev[rr, rc]}).with_columns(
        xml=_el("CPPreviewDate", _date(pl.col("date")), 6)
    )
    reviews = _nest(reviews, "cpp").with_columns(
        xml=pl.concat_str([_open("Reviews", 5), pl.col("xml"), _close("Reviews", 5)])
    )
    cpps = pl.DataFrame(
        {
            "cpp": c_rows,
            "episode": h.cpps["episode"][c_rows],
            "start": h.cpps["start"][c_rows],
            "end": np.where(c_end <= end, c_end, -1),
            "initial": a.cpp_initial[c_rows].astype(str),
            "latest": a.cpp_latest[c_rows].astype(str),
            "previous": a.cpp_previous[c_rows],
        }
    ).sort("episode", "start")
    cpps = _attach(cpps, reviews, "cpp", "reviews").with_columns(
        xml=pl.concat_str(
            [
                _open("ChildProtectionPlans", 4),
                _el("CPPstartDate", _date(pl.col("start")), 5),
                _el("CPPendDate", _date(pl.col("end")), 5),
                _el("InitialCategoryOfAbuse", pl.col("initial"), 5),
                _el("LatestCategoryOfAbuse", pl.col("latest"), 5),
                _el("NumberOfPreviousCPP", pl.col("previous").cast(pl.String), 5),
                pl.col("reviews"),
                _close("ChildProtectionPlans", 4),
            ],
            ignore_nulls=True,
        )
    )

    # assessments and factors
    a_rows = rows["assessments"]
    a_auth = h.assessments["auth"][a_rows]
    shown_auth = np.where(a_auth <= end, a_auth, -1)
    authorised = np.flatnonzero(shown_auth >= 0)
    factors = _factors(h, a, a_rows[authorised], rates, rng, year, factor_base)
    factors = factors.with_columns(
        assessment=pl.Series(a_rows[authorised][factors["row"].to_numpy()], dtype=pl.Int64)
    )
    assessments = pl.DataFrame(
        {"assessment": a_rows, "episode": h.assessments["episode"][a_rows],
         "start": h.assessments["start"][a_rows], "auth": shown_auth}
    ).sort("episode", "start")  # fmt: skip
    assessments = assessments.join(
        factors.select("assessment", "factors"), on="assessment", how="left", maintain_order="left"
    ).with_columns(
        xml=pl.concat_str(
            [
                _open("Assessments", 4),
                _el("AssessmentActualStartDate", _date(pl.col("start")), 5),
                _el("AssessmentAuthorisationDate", _date(pl.col("auth")), 5),
                pl.when(pl.col("factors").is_not_null()).then(
                    pl.concat_str(
                        [_open("FactorsIdentifiedAtAssessment", 5), pl.col("factors"),
                         _close("FactorsIdentifiedAtAssessment", 5)]
                    )
                ),
                _close("Assessments", 4),
            ],
            ignore_nulls=True,
        )
    )  # fmt: skip

    # section 47 enquiries
    s_rows = rows["s47"]
    icpc = h.s47["icpc"][s_rows]
    s47 = pl.DataFrame(
        {
            "episode": h.s47["episode"][s_rows],
            "start": h.s47["start"][s_rows],
            "target": h.s47["target"][s_rows],
            "icpc": np.where(icpc <= end, icpc, -1),
            "not_required": np.where(icpc < 0, "true", "false"),
        }
    ).sort("episode", "start")
    s47 = s47.with_columns(
        xml=pl.concat_str(
            [
                _open("Section47", 4),
                _el("S47ActualStartDate", _date(pl.col("start")), 5),
                _el("InitialCPCtarget", _date(pl.col("target")), 5),
                _el("DateOfInitialCPC", _date(pl.col("icpc")), 5),
                _el("ICPCnotRequired", pl.col("not_required"), 5),
                _close("Section47", 4),
            ],
            ignore_nulls=True,
        )
    )

    # episodes
    close = ep["close"][e_rows]
    shown_close = np.where(close <= end, close, -1)
    e_icpc = ep["icpc"][e_rows]
    episodes = pl.DataFrame(
        {
            "episode": e_rows,
            "child": ep["child"][e_rows],
            "ref": ep["ref"][e_rows],
            "source": _source(a.source[e_rows], ep["ref"][e_rows], e_rows, year),
            "need": a.need[e_rows].astype(str),
            "close": shown_close,
            "reason": _reason(np.where(shown_close >= 0, a.reason[e_rows], ""), e_rows, year),
            "icpc": np.where(e_icpc <= end, e_icpc, -1),
            "nfa": np.where(ep["kind"][e_rows] == 0, "true", "false"),
        }
    ).sort("child", "ref")
    plans = _cin_plans(h, a, e_rows, shown_close, end)
    if year < FORMAT["cin_plans"]:
        plans = plans.clear()
    for part, name in ((assessments, "assessments"), (plans, "plans"), (s47, "s47"), (cpps, "cpps")):
        episodes = _attach(episodes, part, "episode", name)
    episodes = episodes.with_columns(
        xml=pl.concat_str(
            [
                _open("CINdetails", 3),
                _el("CINreferralDate", _date(pl.col("ref")), 4),
                _el("ReferralSource", pl.col("source"), 4),
                _el("PrimaryNeedCode", _text(pl.col("need")), 4),
                _el("CINclosureDate", _date(pl.col("close")), 4),
                _el("ReasonForClosure", _text(pl.col("reason")), 4),
                _el("DateOfInitialCPC", _date(pl.col("icpc")), 4),
                pl.col("assessments"),
                pl.col("plans"),
                pl.col("s47"),
                _el("ReferralNFA", pl.col("nfa"), 4),
                pl.col("cpps"),
                _close("CINdetails", 3),
            ],
            ignore_nulls=True,
        )
    )

    # children
    all_nfa = (
        pl.DataFrame({"child": ep["child"][e_rows], "nfa": ep["kind"][e_rows] == 0})
        .group_by("child")
        .agg(pl.col("nfa").all())
    )
    mask = a.disability[children]
    bits = (mask[:, None] >> np.arange(len(DISABILITIES))) & 1
    dr, dc = np.nonzero(bits)
    codes = np.array(DISABILITIES)
    dis = pl.concat(
        [
            pl.DataFrame({"child": children[dr], "k": dc, "code": codes[dc]}),
            pl.DataFrame({"child": children[mask == 0], "k": np.full(int((mask == 0).sum()), -1),
                          "code": np.full(int((mask == 0).sum()), NO_DISABILITY)}),
        ]
    ).filter(pl.col("child").is_in(children[born])).sort("child", "k")  # fmt: skip
    dis = _nest(dis.with_columns(xml=_el("Disability", pl.col("code"), 5)), "child").with_columns(
        xml=pl.concat_str([_open("Disabilities", 4), pl.col("xml"), _close("Disabilities", 4)])
    )
    # school age for rule 8770Q: aged 6 at 31 March, from 2024-25 born by 31 August six years before
    six = day(dt.date(year - 6, 8, 31) if year >= FORMAT["sex"] else dt.date(year - 6, 3, 31))
    five = day(dt.date(year - 5, 3, 31))
    upn = a.upn[children]
    show_upn = born & (upn != "") & (dob <= five)
    death = a.death[children]
    kids = (
        pl.DataFrame(
            {
                "child": children,
                "id": a.child_id[children].astype(str),
                "upn": np.where(show_upn, upn, "").astype(str),
                "over6": dob <= six,
                "reason": a.upn_reason[children].astype(str),
                "dob": np.where(born, dob, -1),
                "edob": np.where(born, -1, dob + a.expected_offset[children]),
                "gender": np.where(born, a.gender[children], "0").astype(str),
                "death": np.where((death >= start) & (death <= end), death, -1),
                "ethnicity": np.where(born, a.ethnicity[children], a.ethnicity_unborn[children]).astype(str),
            }
        )
        .with_columns(upn=_text(pl.col("upn")))
        .join(all_nfa, on="child", how="left", maintain_order="left")
    )
    unknown = (
        pl.when(pl.col("upn").is_not_null()).then(None)
        .when(~pl.col("over6")).then(pl.lit("UN1"))
        .when(pl.col("nfa")).then(pl.lit("UN7"))
        .otherwise(pl.col("reason"))
    )  # fmt: skip
    kids = kids.with_columns(unknown=unknown)
    for part, name in ((dis, "disabilities"), (episodes, "episodes")):
        kids = _attach(kids, part, "child", name)
    kids = kids.with_columns(
        xml=pl.concat_str(
            [
                _open("Child", 2),
                _open("ChildIdentifiers", 3),
                _el("LAchildID", pl.col("id"), 4),
                _el("UPN", pl.col("upn"), 4),
                _el("UPNunknown", pl.col("unknown"), 4),
                _el("PersonBirthDate", _date(pl.col("dob")), 4),
                _el("ExpectedPersonBirthDate", _date(pl.col("edob")), 4),
                _el("Sex", pl.col("gender").replace_strict(_SEX), 4)
                if year >= FORMAT["sex"]
                else _el("GenderCurrent", pl.col("gender"), 4),
                _el("PersonDeathDate", _date(pl.col("death")), 4),
                _close("ChildIdentifiers", 3),
                _open("ChildCharacteristics", 3),
                _el("Ethnicity", pl.col("ethnicity"), 4),
                pl.col("disabilities"),
                _close("ChildCharacteristics", 3),
                pl.col("episodes"),
                _close("Child", 2),
            ],
            ignore_nulls=True,
        )
    )
    body = kids.select(pl.col("xml").str.join("")).item()
    return "".join(
        [header(la_code, year, stamp), _IND, "<Children>\n", body or "", _IND, "</Children>\n</Message>\n"]
    )


def header(la_code: str, year: int, stamp: str) -> str:
    """The 2019-20 Header, with the Content/CBDSLevels block returns carried up to 2020-21."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<Message>",
        f"{_IND}<Header>",
        f"{_IND * 2}<CollectionDetails>",
        f"{_IND * 3}<Collection>CIN</Collection>",
        f"{_IND * 3}<Year>{year}</Year>",
        f"{_IND * 3}<ReferenceDate>{year}-03-31</ReferenceDate>",
        f"{_IND * 2}</CollectionDetails>",
        f"{_IND * 2}<Source>",
        f"{_IND * 3}<SourceLevel>L</SourceLevel>",
        f"{_IND * 3}<LEA>{la_code}</LEA>",
        f"{_IND * 3}<SoftwareCode>cin_assets synthetic census</SoftwareCode>",
        f"{_IND * 3}<Release>{RELEASE}</Release>",
        f"{_IND * 3}<SerialNo>001</SerialNo>",
        f"{_IND * 3}<DateTime>{stamp}</DateTime>",
        f"{_IND * 2}</Source>",
    ]
    if year < FORMAT["no_content"]:
        lines += [f"{_IND * 2}<Content>", f"{_IND * 3}<CBDSLevels>", f"{_IND * 4}<CBDSLevel>Child</CBDSLevel>",
                  f"{_IND * 3}</CBDSLevels>", f"{_IND * 2}</Content>"]  # fmt: skip
    lines.append(f"{_IND}</Header>")
    return "\n".join(lines) + "\n"
