"""Relations that hold between published statistics by their counting rules, beside the sums each
description declares (``ColumnSum``/``RowSum``). Disclosure control and its audit both need them: an
attacker who knows that episodes at any point are those open at 31 March plus those ending can work out a
suppressed cell from the other two.

Keyed by measure (``Indicator.measure_id``), never by published column name; each applies wherever all its
terms are published for the same geography and filters, in whatever files. Each is tested to hold exactly
on generated data (``cin_assets_tests/datasets/catalogue/test_relations.py``).
"""

from __future__ import annotations

from cin_assets.datasets.description import Relation, at_most, identity

_UNDER_A_YEAR = ("3m", "3_6m", "6_12m")


def _spells(
    spell: str, count: dict[str, str], child: dict[str, str], at31_under_a_year: list[str]
) -> tuple[Relation, ...]:
    """Relations between the spells (episodes of need, plans) open at any point, at 31 March, started and
    ended in a year and the children having them: the same counting rules hold for both."""
    return (
        identity(
            count["anypoint"],
            [count["at31"], count["ended"]],
            why=f"{spell} open at some point in the year is either still open at 31 March or ended in it",
        ),
        *(
            at_most([child[what]], [count[what]], why=f"a child is counted once, {spell} each time")
            for what in ("anypoint", "started", "ended")
        ),
        *(
            at_most([m], [child["anypoint"]], why=f"these children all had {spell} open during the year")
            for m in (count["at31"], child["started"], child["ended"])
        ),
        at_most(
            [child["anypoint"]],
            [count["at31"], child["ended"]],
            why=f"a child with {spell} open during the year and none ending in it still has one at 31 March",
        ),
        at_most(
            at31_under_a_year,
            [count["started"]],
            why=f"{spell} open at 31 March for less than a year started in the year",
        ),
    )


B1 = (
    *_spells(
        "an episode",
        {
            "anypoint": "Anypoint_episodes",
            "at31": "At31_episodes",
            "started": "Started_episodes",
            "ended": "Ended_episodes",
        },
        {"anypoint": "Anypoint_child", "started": "Started_child", "ended": "Ended_child"},
        [f"At31_duration_{d}" for d in _UNDER_A_YEAR],
    ),
    *(
        at_most(
            ["Awaiting_assessment"], [m], why="awaiting assessment: open at 31 March, started in the year"
        )
        for m in ("At31_episodes", "Started_episodes")
    ),
)
B2 = (
    at_most(
        ["At31_episodes_disability_recorded"],
        ["At31_episodes"],
        why="children with a disability recorded are children in need at 31 March",
    ),
    *(
        at_most(
            [f"At31_disability_{code}"],
            ["At31_episodes_disability_recorded"],
            why="a child with this disability has a disability recorded",
        )
        for code in ("AUT", "BEH", "COMM", "CON", "DDA", "HAND", "HEAR", "INC", "LD", "MOB", "PC", "VIS")
    ),
)
C1 = (
    identity(
        "Started_episodes",
        ["Referrals"],
        ["No_Further_Action", "Not_in_Need"],
        why="every referral in the year starts an episode of need unless it leads to no further action or "
        "the child is assessed as not in need",
    ),
    at_most(["Referrals_child"], ["Referrals"], why="a child is counted once, a referral each time"),
    at_most(["Re_referrals_child"], ["Re_referrals"], why="a child is counted once, a re-referral each time"),
    at_most(["Re_referrals"], ["Referrals"], why="a re-referral is a referral"),
    at_most(["Re_referrals_child"], ["Referrals_child"], why="a child re-referred was referred"),
    at_most(["Started_child"], ["Referrals_child"], why="a child starting an episode was referred"),
)
C3 = (
    at_most(
        ["Episodes_with_assessment_factor"],
        ["Assessments_completed"],
        why="factors are recorded at the end of an assessment completed in the year",
    ),
)
C4 = (
    at_most(["Section47_child"], ["Section47"], why="a child is counted once, an enquiry each time"),
    at_most(["ICPC_child"], ["ICPC"], why="a child is counted once, a conference each time"),
    at_most(["ICPC_with_section47"], ["ICPC"], why="conferences with an enquiry are conferences"),
)
D1 = _spells(
    "a plan",
    {"anypoint": "CPP_anypoint", "at31": "CPP_At31", "started": "CPP_start", "ended": "CPP_end"},
    {"anypoint": "CPP_child_anypoint", "started": "CPP_child_start", "ended": "CPP_child_end"},
    [f"CPP_At31_duration_{d}" for d in _UNDER_A_YEAR],
)
D3 = (at_most(["CPP_subsequent"], ["CPP_start"], why="a second or subsequent plan is a plan starting"),)
D6 = (
    at_most(
        ["Reviewed_within_timescales"],
        ["CPP_At31_3_months_or_more"],
        why="reviews are counted for plans open 3 months or more",
    ),
    at_most(["CPP_At31_3_months_or_more"], ["CPP_At31"], why="these plans are open at 31 March"),
    at_most(
        ["CPP_At31"],
        ["CPP_At31_duration_3m", "CPP_At31_3_months_or_more"],
        why="a plan open at 31 March has lasted 3 months or less, or 3 months or more",
    ),
)
D8 = (at_most(["CPP_end_first_6_months"], ["CPP_end"], why="plans ending in the first half year end in it"),)

RELATIONS: dict[str, tuple[Relation, ...]] = {
    "B1": B1,
    "B2": B2,
    "C1": C1,
    "C3": C3,
    "C4": C4,
    "D1": D1,
    "D3": D3,
    "D6": D6,
    "D8": D8,
}
