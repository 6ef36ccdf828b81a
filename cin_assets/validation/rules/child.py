"""Child-level rules: identifiers, UPN, dates of birth and death, gender, ethnicity, disabilities."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import add

import polars as pl

from cin_assets.census.codes import CHECK_LETTERS, NO_DISABILITY, UPN_UNKNOWN_OVER_6
from cin_assets.validation.rule import (
    CHILD_KEY,
    Census,
    Check,
    Context,
    Rule,
    anti,
    repeat_of_earlier,
    row_rule,
    rule,
    semi,
    text,
)

DOB, EXPECTED, DEATH = "PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate"
_LAST_CHAR = r"^[0-9A-HJ-NP-RT-Z]$"
_LAST_VALUE = {**{str(d): d for d in range(10)}, **{c: i for i, c in enumerate(CHECK_LETTERS)}}


def _check_letter(number: pl.Expr, last: pl.Expr) -> pl.Expr:
    """The check letter UPN characters 2-13 imply (weights 2..13, mod 23); null when they are malformed.

    ``number`` is characters 2-12 read as one integer, split into digits arithmetically (much faster than
    eleven string slices); ``last`` is character 13, a digit or a letter counted by its position in the
    check alphabet.
    """
    digits = [(number // 10 ** (10 - k)) % 10 * (k + 2) for k in range(11)]
    total = reduce(add, [*digits, last.replace_strict(_LAST_VALUE, default=None, return_dtype=pl.Int64) * 13])
    return total.mod(23).replace_strict(dict(enumerate(CHECK_LETTERS)), default=None, return_dtype=pl.String)


def _wrong_check_letter(column: str, whole_shape: bool) -> Check:
    """UPNs in ``column`` failing the check letter: 1510 (``whole_shape`` false) reports a wrong length, or a
    wrong letter where characters 2-13 are well formed (1540/1550 report them otherwise); 1560Q reports any
    former UPN not shaped letter + 11 digits + digit/letter, or with a wrong letter."""

    def check(ctx: Context) -> pl.LazyFrame:
        upn = pl.col("_upn")
        tail_ok = upn.str.contains(r"^.\d{11}[0-9A-HJ-NP-RT-Z]$")
        wrong = upn.str.slice(0, 1) != pl.col("_letter")
        if whole_shape:
            failing = ~upn.str.contains(r"^[A-Z]\d{11}[0-9A-HJ-NP-RT-Z]$") | wrong
        else:
            failing = (upn.str.len_chars() != 13) | (tail_ok & wrong)
        return (
            ctx.lazy("children")
            .filter(pl.col(column).is_not_null())
            .with_columns(_upn=pl.col(column).str.to_uppercase())
            .with_columns(_letter=_check_letter(pl.col("_upn").str.slice(1, 11).cast(pl.Int64, strict=False),
                                                pl.col("_upn").str.slice(12, 1)))
            .filter(failing.fill_null(False))
        )  # fmt: skip

    return check


def _upn() -> pl.Expr:
    return pl.col("UPN").str.to_uppercase()


def _has_further_action(ctx: Context) -> pl.LazyFrame:
    """Child keys with at least one episode explicitly not NFA."""
    return ctx.lazy("episodes").filter(ctx.nfa_false()).select(CHILD_KEY).unique()


def _dup(col: str) -> pl.Expr:
    """Present, and shared with another child of the same return."""
    return pl.col(col).is_not_null() & pl.struct("reporting_year", "la_code", col).is_duplicated()


def _8540(ctx: Context) -> pl.LazyFrame:
    valid = list(ctx.census.codes.disability)
    bad_or_none = (
        ctx.lazy("children")
        .join(
            ctx.lazy("disabilities")
            .group_by(list(CHILD_KEY))
            .agg(n=pl.len(), n_valid=pl.col("Disability").is_in(valid).sum()),
            on=list(CHILD_KEY),
            how="left",
            nulls_equal=True,
        )
        .filter(pl.col(DOB).is_not_null() & (pl.col("n").is_null() | (pl.col("n_valid") < pl.col("n"))))
    )
    return semi(bad_or_none, _has_further_action(ctx), CHILD_KEY).with_columns(
        text("{} disability codes, {} valid", pl.col("n").fill_null(0), pl.col("n_valid").fill_null(0)).alias(
            "value"
        )
    )


def _8790(ctx: Context) -> pl.LazyFrame:
    dis = pl.col("Disability")
    codes = ctx.lazy("disabilities")
    with_none = codes.filter(dis == NO_DISABILITY).select(CHILD_KEY)
    mixed = (
        codes.filter(dis != NO_DISABILITY)
        .select(CHILD_KEY)
        .join(with_none, on=list(CHILD_KEY), how="semi", nulls_equal=True)
    )
    return (
        semi(codes, mixed, CHILD_KEY)
        .group_by(list(CHILD_KEY))
        .agg(line=pl.col("line").min(), Disability=dis.sort().str.join(","))
    )


def _8794(ctx: Context) -> pl.LazyFrame:
    return ctx.lazy("disabilities").filter(
        pl.col("Disability").is_not_null() & repeat_of_earlier((*CHILD_KEY, "Disability"))
    )


def _8590(ctx: Context) -> pl.LazyFrame:
    return anti(ctx.lazy("children"), ctx.lazy("episodes").select(CHILD_KEY).unique(), CHILD_KEY)


def _8770(ctx: Context) -> pl.LazyFrame:
    c = ctx.census
    six = dt.date(c.reference_date.year - 6, c.reference_date.month, c.reference_date.day)
    excused = pl.col("UPNunknown").str.to_uppercase().is_in(UPN_UNKNOWN_OVER_6).fill_null(False)
    missing = ctx.lazy("children").filter((pl.col(DOB) <= six) & pl.col("UPN").is_null() & ~excused)
    return semi(missing, _has_further_action(ctx), CHILD_KEY)


def _8772(ctx: Context) -> pl.LazyFrame:
    un7 = ctx.lazy("children").filter(pl.col("UPNunknown").str.to_uppercase() == "UN7")
    return semi(un7, _has_further_action(ctx), CHILD_KEY)


def _8775(ctx: Context) -> pl.LazyFrame:
    c = ctx.census
    over_25 = (
        ctx.lazy("children")
        .with_columns(age_25=pl.col(DOB).dt.offset_by("25y"))
        .filter(pl.col("age_25") < c.reference_date)
    )
    late = (
        ctx.lazy("episodes")
        .join(
            over_25.select(*CHILD_KEY, "age_25").unique(subset=list(CHILD_KEY)),
            on=list(CHILD_KEY),
            nulls_equal=True,
        )
        .filter(pl.col("CINclosureDate").is_null() | (pl.col("CINclosureDate") > pl.col("age_25")))
        .select(CHILD_KEY)
        .unique()
    )
    return semi(over_25, late, CHILD_KEY)


def _expected_birth_window(c: Census) -> tuple[dt.date, dt.date]:
    """8530Q window: ReferenceDate (31 March) minus 30 days to ReferenceDate plus 9 months (31 December)."""
    ref = c.reference_date
    return ref - dt.timedelta(days=30), dt.date(ref.year, 12, 31)


RULES: list[Rule] = [
    row_rule(
        "8500", "children", ("LAchildID",), "LA Child ID missing", lambda c: pl.col("LAchildID").is_null()
    ),
    row_rule(
        "8510",
        "children",
        ("LAchildID",),
        "More than one child record with the same LA Child ID",
        lambda c: _dup("LAchildID"),
    ),
    rule(
        "1510",
        "children",
        ("UPN",),
        "UPN invalid (wrong check letter at character 1)",
        _wrong_check_letter("UPN", whole_shape=False),
    ),
    row_rule(
        "1520",
        "children",
        ("UPN",),
        "More than one record with the same UPN",
        lambda c: _dup("UPN"),
    ),
    row_rule(
        "1530",
        "children",
        ("UPN",),
        "UPN invalid (characters 2-4 not a recognised LA code)",
        lambda c: pl.col("UPN").is_not_null() & ~_upn().str.slice(1, 3).is_in(list(c.codes.upn_la)),
        uncertainty="2019-20 list may lack 838/839 (added to the published rule in March 2021); accepted from 2020",
    ),
    row_rule(
        "1540",
        "children",
        ("UPN",),
        "UPN invalid (characters 5-12 not all numeric)",
        lambda c: pl.col("UPN").is_not_null() & ~_upn().str.slice(4, 8).str.contains(r"^\d{8}$"),
    ),
    row_rule(
        "1550",
        "children",
        ("UPN",),
        "UPN invalid (character 13 not a recognised value)",
        lambda c: pl.col("UPN").is_not_null() & ~_upn().str.slice(12, 1).str.contains(_LAST_CHAR),
    ),
    rule(
        "1560Q",
        "children",
        ("FormerUPN",),
        "Please check: Former UPN wrongly formatted",
        _wrong_check_letter("FormerUPN", whole_shape=True),
    ),
    row_rule(
        "8520",
        "children",
        (DOB,),
        "Date of Birth is after data collection period (must be on or before the end of the census period)",
        lambda c: pl.col(DOB) > c.reference_date,
    ),
    row_rule(
        "8525Q",
        "children",
        (DOB, EXPECTED),
        "Please check: Either Date of Birth or Expected Date of Birth must be provided (but not both)",
        lambda c: pl.col(DOB).is_null() == pl.col(EXPECTED).is_null(),
        uncertainty="query status: the 2021-22 Bristol list has 8525 without the Q suffix",
    ),
    row_rule(
        "8530Q",
        "children",
        (EXPECTED,),
        "Please check: Expected Date of Birth is outside the expected range for this census "
        "(March to December of the Census Year end)",
        lambda c: ~pl.col(EXPECTED).is_between(*_expected_birth_window(c), closed="both"),
    ),
    row_rule(
        "8535Q",
        "children",
        (DOB, DEATH),
        "Please check: Child's date of death should not be prior to the date of birth",
        lambda c: pl.col(DEATH) < pl.col(DOB),
    ),
    row_rule(
        "8545Q",
        "children",
        (DEATH,),
        "Please check: Child's date of death should be within the census year",
        lambda c: c.outside_year(pl.col(DEATH)),
    ),
    row_rule(
        "4180",
        "children",
        ("GenderCurrent",),
        "Gender is missing or invalid",
        lambda c: ~pl.col(c.codes.gender_field).is_in(list(c.codes.gender)).fill_null(False),
    ),
    row_rule(
        "8750",
        "children",
        (DOB, EXPECTED, "GenderCurrent"),
        "Gender must equal 0 for an unborn child",
        lambda c: (
            pl.col(DOB).is_null()
            & pl.col(EXPECTED).is_not_null()
            & (pl.col(c.codes.gender_field) != c.codes.unborn_gender)
        ),
    ),
    row_rule(
        "4220",
        "children",
        ("Ethnicity",),
        "Ethnicity is missing or invalid (see Ethnicity table)",
        lambda c: ~pl.col("Ethnicity").is_in(list(c.codes.ethnicity)).fill_null(False),
    ),
    rule(
        "8540",
        "children",
        ("Disability",),
        "Child's disability is missing or invalid (see Disability table)",
        _8540,
    ),
    rule(
        "8790",
        "disabilities",
        ("Disability",),
        "Disability information includes both None and other values",
        _8790,
    ),
    rule(
        "8794",
        "disabilities",
        ("Disability",),
        "Child has two or more disabilities with the same code",
        _8794,
    ),
    rule("8590", "children", ("LAchildID",), "Child does not have a recorded CIN episode.", _8590),
    rule(
        "8770Q",
        "children",
        ("PersonBirthDate", "UPN", "UPNunknown"),
        "Please check and either amend data or provide a reason: UPN or reason UPN missing expected for a child "
        "who is more than 5 years old",
        _8770,
        uncertainty="accepted reasons: UN2-UN7 as csc-validator-be-cin (the Bristol toolkit accepts UN2-UN6)",
    ),
    rule(
        "8772",
        "children",
        ("UPNunknown",),
        "UPN unknown reason is UN7 (Referral with no further action) but at least one CIN details is a referral "
        "going on to further action",
        _8772,
    ),
    rule("8775Q", "children", (DOB,), "Please check: Child is over 25 years old", _8775),
]


def _8770_school_age(ctx: Context) -> pl.LazyFrame:
    """2024-25 form: the child is of school age, i.e. born on or before 31 August six years before the
    31 August after the ReferenceDate (csc-validator-be-cin's cin2024_25 rule)."""
    c = ctx.census
    born_by = dt.date(c.reference_date.year - 6, 8, 31)
    excused = pl.col("UPNunknown").str.to_uppercase().is_in(UPN_UNKNOWN_OVER_6).fill_null(False)
    missing = ctx.lazy("children").filter((pl.col(DOB) <= born_by) & pl.col("UPN").is_null() & ~excused)
    return semi(missing, _has_further_action(ctx), CHILD_KEY)


# Rules added or changed in 2024-25 (see cin_assets/validation/rulesets.py).
RULES_2025: dict[str, Rule] = {
    "1570": row_rule(
        "1570",
        "children",
        ("LAchildID",),
        "LA Child ID must not be longer than 20 characters",
        lambda c: pl.col("LAchildID").str.len_chars() > 20,
        first_year=2025,
    ),
    "1580": row_rule(
        "1580",
        "children",
        ("LAchildID",),
        "LA Child ID must not contain any non-alphanumeric characters",
        lambda c: ~pl.col("LAchildID").str.contains(r"^[A-Za-z0-9]*$"),
        first_year=2025,
    ),
    "8770Q": rule(
        "8770Q",
        "children",
        ("PersonBirthDate", "UPN", "UPNunknown"),
        "Please check and either amend data or provide a reason: UPN is missing or reason UPN is missing or is UN1 "
        "for a child who is of school age.",
        _8770_school_age,
        first_year=2025,
    ),
}
