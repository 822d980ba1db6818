"""The benchmark report: which figures measure the current code (bench/common.py code_state, same_code), how
the report shows the others (bench/report.py), and the charts (bench/chart.py)."""

import subprocess
import sys

import pytest

from bench import report
from bench.chart import Series, Target, line_chart
from bench.common import Figure, LoadProbe, Result, code_state, same_code, short_sha


def git(root, *args):
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A repository with code, the results document and the findings, all committed."""
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "bench@example.com")
    git(tmp_path, "config", "user.name", "Bench")
    (tmp_path / "docs").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "docs" / "benchmarks.md").write_text("# Benchmarks\n")
    (tmp_path / "bench" / "findings.md").write_text("findings\n")
    commit(tmp_path, "code")
    return tmp_path


def commit(root, message):
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def test_a_commit_of_the_results_or_findings_only_keeps_the_figures_current(repo):
    measured = code_state(repo)
    (repo / "docs" / "benchmarks.md").write_text("# Benchmarks\n\n| new results |\n")
    (repo / "docs" / "bench-fanout.svg").write_text("<svg/>\n")  # a new chart
    (repo / "bench" / "findings.md").write_text("a finding\n")

    assert code_state(repo)["dirty"] is False  # the bench's output and the findings are not code
    commit(repo, "results")

    current = code_state(repo)
    assert current["sha"] != measured["sha"]
    assert same_code(measured, current, repo) is True


def test_a_code_change_after_the_run_makes_the_figures_stale(repo):
    measured = code_state(repo)
    (repo / "app.py").write_text("x = 2\n")

    dirty = code_state(repo)
    assert dirty["dirty"] is True and dirty["changed"] == ["app.py"]
    assert same_code(measured, dirty, repo) is False  # uncommitted code
    commit(repo, "change")
    assert same_code(measured, code_state(repo), repo) is False  # committed code


def test_an_untracked_file_counts_as_a_change(repo):
    (repo / "new_module.py").write_text("")

    assert code_state(repo) == {"sha": git(repo, "rev-parse", "HEAD"), "dirty": True, "changed": ["new_module.py"]}


def test_figures_measured_on_a_dirty_tree_or_at_an_unknown_commit_are_never_current(repo):
    current = code_state(repo)

    assert same_code({**current, "dirty": True}, current, repo) is False
    assert same_code({"sha": "0" * 40, "dirty": False}, current, repo) is False  # not in this repository
    assert same_code({}, current, repo) is False  # results written before commits were recorded
    assert short_sha({**current, "dirty": True}) == current["sha"][:7] + "-dirty"
    assert short_sha({}) == "unknown"


def measured_result(commit: dict) -> Result:
    result = Result(name="fanout", title="Fan-out", command="python -m bench fanout", commit=commit)
    result.figures = [
        Figure("fanout.3", "Fan-out of 3", 1.05, "×", target=""),
        Figure("fanout.6", "Fan-out of 6", 1.1, "×", target="≤ 1.2", met=True),
        Figure("fanout.12", "Fan-out of 12", 1.3, "×", target="≤ 1.25", met=False),
    ]
    return result


def test_the_report_marks_targets_only_for_figures_of_the_current_code(repo):
    current = code_state(repo)
    fresh = report.render([measured_result(current)], current=current)
    (repo / "app.py").write_text("x = 3\n")
    commit(repo, "change")
    stale = report.render([measured_result(current)], current=code_state(repo))

    row = f"| 1 | Fan-out of 6 | 1.10× | ≤ 1.2 | yes | `{current['sha'][:7]}` |"
    assert row in fresh
    assert "- **missed**: Fan-out of 12: 1.30× (target ≤ 1.25;" in fresh
    assert "**Stale:**" not in fresh
    assert row.replace("| yes |", "| stale |") in stale
    assert "| yes |" not in stale and "**no**" not in stale
    assert "**Stale:** the code has changed since the commit measured" in stale


def test_the_report_draws_the_fanout_chart_with_its_target(repo):
    drawn = report.charts([measured_result(code_state(repo))])

    filename, svg, _ = drawn["fanout"]
    assert filename == "bench-fanout.svg"
    assert "target at 6: 1.2×" in svg
    assert svg.count("<circle") == 3  # 3, 6 and 12 deliverables
    assert "studio" not in drawn  # nothing measured to draw


def test_a_chart_needs_a_measured_point():
    with pytest.raises(ValueError, match="nothing to draw"):
        line_chart([Series("none", [])], title="t", x_label="x", y_label="y")


def test_a_chart_keeps_every_point_and_target_inside_its_axes():
    svg = line_chart(
        [Series("p99", [(100, 40.0), (1000, 130.0)])],
        title="t",
        x_label="x",
        y_label="y",
        targets=[Target("target 50 ms", 50)],
    )

    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert ">130<" in svg and ">40.0<" in svg and "target 50 ms" in svg


def test_the_load_probe_counts_what_this_benchmarks_children_used():
    probe = LoadProbe()
    subprocess.run(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"],
        check=True,
    )

    load = probe.summary()

    assert load["own_pct"] > 0  # the child, reaped: its CPU time is in this process's children's time
    assert set(load) == {"start", "end", "seconds", "machine_busy_pct", "own_pct", "others_pct", "others_top"}
    assert load["others_pct"] >= 0
