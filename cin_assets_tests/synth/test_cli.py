from __future__ import annotations

from pathlib import Path

import pytest

from cin_assets.synth import attributes, cli


def test_cli_writes_returns_and_reports_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(
            [
                "--years",
                "2019-2020",
                "--scale",
                "0.5",
                "--out",
                str(tmp_path),
                "--la",
                "420",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xml")) == [
        "2019/420.xml",
        "2020/420.xml",
    ]
    out = capsys.readouterr().out
    assert "LA 420: 2 returns" in out and "wrote 2 returns" in out


def test_cli_refuses_an_unknown_la(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--years", "2020", "--out", str(tmp_path), "--la", "999"]) == 2
    assert "999" in capsys.readouterr().err


def test_upn_check_letters_match_the_rule_1510_algorithm() -> None:
    from cin_assets.census.codes import check_letter

    tails = ["845123419001", "201000020999", "838765415123"]
    letters = attributes.check_letters(__import__("numpy").array(tails, dtype=object))
    assert list(letters) == [check_letter(t) for t in tails]
