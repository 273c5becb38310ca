"""`python -m bench.run --gather`: bench/results.md holds every result, the README a short table."""

from __future__ import annotations

from pathlib import Path

from bench import run
from bench.common import RESULTS


def _gather(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "bench").mkdir()
    readme = "# x\n\n<!-- bench:start -->\nstale table\n<!-- bench:end -->\n\nafter\n"
    (tmp_path / "README.md").write_text(readme)
    run.gather(root=tmp_path, results_dir=RESULTS)
    return (tmp_path / "README.md").read_text(), (tmp_path / "bench" / "results.md").read_text()


def test_the_readme_gets_one_row_per_benchmark_with_every_headline_found(tmp_path: Path) -> None:
    readme, _ = _gather(tmp_path)
    table = readme.split(run.START)[1].split(run.END)[0].strip().splitlines()
    results = sorted(RESULTS.glob("*.md"))
    assert len(table) == 2 + len(results)  # header, rule, one row per result file
    for row in table[2:]:
        assert "—" not in row.split(" | ")[1], f"a headline no longer matches its result: {row}"
    assert readme.endswith("<!-- bench:end -->\n\nafter\n") and "stale table" not in readme


def test_headlines_are_the_figures_of_the_result_tables() -> None:
    text = (
        "### T\n\n_Measured 2026-01-02 03:04 UTC._\n\n"
        "| route | p50 |\n|---|---:|\n| GET /a | 5 ms |\n| GET /ab | 7 ms |\n"
    )
    assert run.headline(text, ("{}", "GET /a", ("p50",))) == "5 ms"
    assert run.headline(text, ("{}", "GET /ab", ("p50",))) == "7 ms"
    assert run.headline(text, ("{}", "GET /b", ("p50",))) == "—"
    assert run.headline(text, ("{} ({})", None, ("p50",))) == "7 ms (GET /ab)"
    assert run.title_and_date(text) == ("T", "2026-01-02")


def test_results_md_holds_every_result_under_a_linked_heading(tmp_path: Path) -> None:
    readme, results_md = _gather(tmp_path)
    for path in sorted(RESULTS.glob("*.md")):
        title, _ = run.title_and_date(path.read_text())
        assert f"\n## {title}\n" in results_md
        assert f"(#{run.anchor(title)})" in results_md
        assert f"(bench/results.md#{run.anchor(title)})" in readme
        body = path.read_text().split("\n", 1)[1].strip()
        assert body.replace("\n####", "\n###") in results_md
