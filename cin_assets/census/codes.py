"""The census vocabulary: the code lists of every reporting year, their published groupings and the UPN check.

The one place a census code list is written: the validation rules, the generator, the measures and the
data set descriptions take their codes from here (the years each element is in the message are
``tables.ELEMENT_YEARS``). Sources are the census specification notes (``cin_census_2019_20.md`` §3): the
2019-20 lists come from the 2017-2020 schema (identical files) and a contemporary 2019-20 data map. Earlier
years reuse the 2019-20 lists except where a change is documented; the rules that depend on a doubtful list
say so in their ``uncertainty`` field. :func:`code_lists` gives one year's lists, each later change from its
year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cin_assets.census.tables import SEX_FROM

GENDER = ("0", "1", "2", "9")  # GenderCurrent, up to 2023-24
SEX = ("M", "F", "U")  # Sex, from 2024-25
# Ethnicity: each code with its published minor-group label, in the schema's order.
ETHNIC_MINOR: dict[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish heritage",
    "WOTH": "Any other White background",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other Mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}
ETHNICITY = tuple(ETHNIC_MINOR)
# The DfE major groups (Chinese in "Other ethnic group"); refused, not yet obtained or missing is "Not known".
ETHNIC_GROUPS: dict[str, tuple[str, ...]] = {
    "White": ("WBRI", "WIRI", "WIRT", "WOTH", "WROM"),
    "Mixed": ("MWBC", "MWBA", "MWAS", "MOTH"),
    "Asian or Asian British": ("AIND", "APKN", "ABAN", "AOTH"),
    "Black or Black British": ("BCRB", "BAFR", "BOTH"),
    "Other ethnic group": ("CHNE", "OOTH"),
}
ETHNICITY_NOT_KNOWN = "Not known"
# The published age groups at 31 March; a child with only an expected date of birth is unborn.
AGE_GROUPS = ("Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over")
UNBORN = "Unborn"
NO_DISABILITY = "NONE"
# Disability codes in the schema's order (the generator's bitmask order; B1 publishes them alphabetically).
DISABILITIES = ("MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA")  # fmt: skip
DISABILITY = (NO_DISABILITY, *DISABILITIES)
REFERRAL_SOURCE = (
    "1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F",
    "4", "5A", "5B", "5C", "6", "7", "8", "9", "10",
)  # fmt: skip
PRIMARY_NEED = ("N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9")
CLOSURE_REASON = ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8")
# RC8 "case closed after assessment, no further action"; from 2022-23 also RC9 "... referred to early help".
CLOSED_AFTER_ASSESSMENT = ("RC8",)
RC9_FROM = 2023
REFERRAL_SOURCE_5D_FROM = 2023  # 5D "LA services - early help" (schema 2022-23)
# ReferralSource codes by DfE's C5 source group (any other code, 10 or none, is "Unknown")
REFERRAL_SOURCE_GROUPS: dict[str, tuple[str, ...]] = {
    "Individual": ("1A", "1B", "1C", "1D"),
    "Schools": ("2A",),
    "Education_Services": ("2B",),
    "Health_Services": ("3A", "3B", "3C", "3D", "3E", "3F"),
    "Housing": ("4",),
    "LA_Services": ("5A", "5B", "5C"),
    "Police": ("6",),
    "Other_legal_agency": ("7",),
    "Other": ("8",),
    "Anonymous": ("9",),
}
ABUSE_CATEGORY = ("NEG", "PHY", "SAB", "EMO", "MUL")
UPN_UNKNOWN = ("UN1", "UN2", "UN3", "UN4", "UN5", "UN6", "UN7")
# 8770Q: reasons that excuse a missing UPN for a child aged 6 or over (UN1 "under 6" never does).
UPN_UNKNOWN_OVER_6 = ("UN2", "UN3", "UN4", "UN5", "UN6", "UN7")
# Assessment factors of every year in the schema's order. 2020-21 split physical (18) and sexual (19) abuse
# by who the abuser was; 18A/19A stay accepted (the published C3 counts them as "unknown" until 2024;
# 2024-25 adds queries 8945Q/8950Q against them). 2021-22 added 24A, child criminal exploitation.
FACTORS = (
    "1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
    "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A",
    "14A", "15A", "16A", "17A", "18A", "18B", "18C", "19A", "19B", "19C", "20", "21", "22A", "23A", "24A",
)  # fmt: skip
FACTOR_FROM = {"18B": 2021, "18C": 2021, "19B": 2021, "19C": 2021, "24A": 2022}  # first reporting year
NO_FACTORS = "21"  # "no factors identified": cannot be recorded with any other factor


def factors_first_year(factors: tuple[str, ...]) -> int | None:
    """The first reporting year all of ``factors`` were collected (None: every year)."""
    return max((FACTOR_FROM[c] for c in factors if c in FACTOR_FROM), default=None)


# Rule 1530: characters 2-4 of a UPN must be one of these LA or pseudo-LA codes (2021-22 published list).
_UPN_LA_RANGES = (
    (1, 5), (201, 213), (301, 320), (330, 336), (340, 344), (350, 359), (370, 373), (380, 384),
    (390, 394), (420, 420), (660, 681), (701, 708), (800, 803), (805, 808), (810, 813), (815, 816),
    (820, 823), (825, 826), (830, 831), (835, 837), (840, 841), (845, 846), (850, 852), (855, 857),
    (860, 861), (865, 896), (908, 909), (916, 916), (919, 919), (921, 921), (925, 926), (928, 929),
    (931, 931), (933, 933), (935, 938),
)  # fmt: skip
# LA codes that exist from a year on: Dorset (838) and Bournemouth, Christchurch & Poole (839) from April
# 2019 (collection 2019-20); North/West Northamptonshire (940/941) from 2021-22; Cumberland (942) and
# Westmorland and Furness (943) from 2023-24 (csc-validator-be-cin's 2023-24 rule 1530).
_UPN_LA_FROM = {2020: ("838", "839"), 2022: ("940", "941"), 2024: ("942", "943")}

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # index = weighted sum mod 23 (no I, O or S)


@dataclass(frozen=True)
class CodeLists:
    """The valid codes for one reporting year."""

    gender: tuple[str, ...]  # GenderCurrent codes, or Sex codes from 2024-25
    gender_field: str  # "GenderCurrent", or "Sex" from 2024-25
    unborn_gender: str  # the code an unborn child must have (8750)
    ethnicity: tuple[str, ...]
    disability: tuple[str, ...]
    referral_source: tuple[str, ...]
    primary_need: tuple[str, ...]
    closure_reason: tuple[str, ...]
    closed_after_assessment: tuple[str, ...]
    abuse_category: tuple[str, ...]
    factors: tuple[str, ...]
    upn_unknown: tuple[str, ...]
    upn_la: tuple[str, ...]


@cache
def code_lists(year: int) -> CodeLists:
    """Code lists for reporting ``year``: the 2019-20 lists, with each later change from its year."""
    upn_la = tuple(f"{n:03d}" for lo, hi in _UPN_LA_RANGES for n in range(lo, hi + 1))
    upn_la = tuple(sorted((*upn_la, *(c for y, codes in _UPN_LA_FROM.items() if year >= y for c in codes))))
    # the 2019-20 list, then each factor collected later from its first year
    factors = (
        *(c for c in FACTORS if c not in FACTOR_FROM),
        *(c for c, first in FACTOR_FROM.items() if year >= first),
    )
    sex = year >= SEX_FROM
    return CodeLists(
        gender=SEX if sex else GENDER,
        gender_field="Sex" if sex else "GenderCurrent",
        unborn_gender="U" if sex else "0",
        ethnicity=ETHNICITY,
        disability=DISABILITY,
        referral_source=(*REFERRAL_SOURCE, "5D") if year >= REFERRAL_SOURCE_5D_FROM else REFERRAL_SOURCE,
        primary_need=PRIMARY_NEED,
        closure_reason=(*CLOSURE_REASON, "RC9") if year >= RC9_FROM else CLOSURE_REASON,
        closed_after_assessment=(*CLOSED_AFTER_ASSESSMENT, "RC9")
        if year >= RC9_FROM
        else CLOSED_AFTER_ASSESSMENT,
        abuse_category=ABUSE_CATEGORY,
        factors=factors,
        upn_unknown=UPN_UNKNOWN,
        upn_la=upn_la,
    )


def check_letter(upn_tail: str) -> str:
    """The check letter for UPN characters 2-13 (scalar twin of the vectorised rule, used by tests/tools).

    Characters 2-12 are digits; character 13 is a digit or, for a temporary UPN, a letter that counts as its
    position in :data:`CHECK_LETTERS`. Weights run 2..13.
    """
    values = [int(ch) if ch.isdigit() else CHECK_LETTERS.index(ch) for ch in upn_tail]
    return CHECK_LETTERS[sum(v * w for v, w in zip(values, range(2, 14), strict=True)) % 23]
