"""Developer notes on how each data set's layout was established (``docs/data_set_provenance.md``).

The published data guidance is for the public and says what the files contain; where a column list or
name comes from (the 2020 file, a later release, or inferred) and which reference data it was checked
against is for the team, so it lives in this generated developer document instead.
Regenerate with ``python -m cin_assets.publish.provenance > docs/data_set_provenance.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

from cin_assets.datasets.description import DataSet

EVIDENCE = {
    "2020 release": "the 2020 release's own file (data catalogue page)",
    "later release": "a later release of the same table (the closest one found)",
    "inferred": "inferred: no published column list was found for 2020 or later",
}


def provenance_markdown(datasets: Mapping[str, DataSet]) -> str:
    """One section per data set: where its column list comes from, the reconstruction notes and the DfE
    texts its definitions follow (the data set's ``source``, then indicators citing their own)."""
    lines = [
        "# Data set provenance (developer notes)",
        "",
        "Generated from the descriptions in `cin_assets/datasets/catalogue/` by `cin_assets.publish.provenance`;",
        "not part of the published release. Reference data ids (E23B1, E25C3, LAIT ...) are listed in",
        "`data/reference/sources.csv` and `data/reference/README.md`.",
        "",
        "| Code | 2020 file name | Column list from |",
        "|---|---|---|",
    ]
    lines += [f"| {ds.code} | `{ds.stem}` | {EVIDENCE[ds.columns_evidence]} |" for ds in datasets.values()]
    for ds in datasets.values():
        lines += ["", f"## {ds.code}: {ds.title}", "", f"Column list: {EVIDENCE[ds.columns_evidence]}."]
        if ds.provenance:
            lines += ["", ds.provenance]
        lines += ["", f"Definitions follow: {ds.source}."]
        own = [(i.name, i.source) for i in ds.indicators if i.source and i.source != ds.source]
        lines += [f"- `{name}`: {source}" for name, source in own if not name.endswith(("_percent", "_rate"))]
        if ds.legacy_names:
            names = ", ".join(f"`{n}`" for n in ds.legacy_names)
            lines += [
                "",
                f"Kept as DfE published them in 2020 although today's EES screener rejects them: {names}.",
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from cin_assets.datasets.catalogue import DATASETS

    print(provenance_markdown(DATASETS), end="")


if __name__ == "__main__":
    main()
