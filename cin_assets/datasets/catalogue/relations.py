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

B1 = (
    identity(
        "Anypoint_episodes",
        ["At31_episodes", "Ended_episodes"],
        why="an episode open at some point in the year is either still open at 31 March or closed in it",
    ),
    *(
        at_most([f"{what}_child"], [f"{what}_episodes"], why="a child is counted once, an episode each time")
        for what in ("Anypoint", "Started", "Ended")
    ),
    *(
        at_most([m], ["Anypoint_child"], why="these children all had an episode open during the year")
        for m in ("At31_episodes", "Started_child", "Ended_child")
    ),
    at_most(
        ["Anypoint_child"],
        ["At31_episodes", "Ended_child"],
        why="a child in need during the year with no episode ending in it is still in need at 31 March",
    ),
    *(
        at_most(
            ["Awaiting_assessment"], [m], why="awaiting assessment: open at 31 March, started in the year"
        )
        for m in ("At31_episodes", "Started_episodes")
    ),
    at_most(
        [f"At31_duration_{d}" for d in _UNDER_A_YEAR],
        ["Started_episodes"],
        why="an episode open at 31 March for less than a year started in the year",
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
D1 = (
    identity(
        "CPP_anypoint",
        ["CPP_At31", "CPP_end"],
        why="a plan open at some point in the year is either still open at 31 March or ended in it",
    ),
    *(
        at_most([f"CPP_child_{what}"], [f"CPP_{what}"], why="a child is counted once, a plan each time")
        for what in ("start", "end", "anypoint")
    ),
    *(
        at_most([m], ["CPP_child_anypoint"], why="these children all had a plan open during the year")
        for m in ("CPP_At31", "CPP_child_start", "CPP_child_end")
    ),
    at_most(
        ["CPP_child_anypoint"],
        ["CPP_At31", "CPP_child_end"],
        why="a child on a plan during the year with no plan ending in it is still on one at 31 March",
    ),
    at_most(
        [f"CPP_At31_duration_{d}" for d in _UNDER_A_YEAR],
        ["CPP_start"],
        why="a plan open at 31 March for less than a year started in the year",
    ),
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
