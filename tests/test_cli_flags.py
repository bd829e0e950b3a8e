"""Flags that contradict each other, or modify what was not asked for, are refused naming both."""

import pytest

from conftest import ROOT, run_cli


@pytest.mark.parametrize(
    "args, names",
    [
        (["--background", "white", "--blur", "5"], ["--blur", "--background white"]),
        (["--background-image", "samples/coffee.jpg", "--blur", "5"], ["--blur", "--background-image"]),
        (["--blur", "5"], ["--blur", "--background blur"]),
        (
            ["--background", "red", "--background-image", "samples/coffee.jpg"],
            ["--background red", "--background-image"],
        ),
        (
            ["--background", "blur", "--background-image", "samples/coffee.jpg"],
            ["--background blur", "--background-image"],
        ),
        (["--fill", "0.5"], ["--fill", "--canvas"]),
        (["--position", "bottom"], ["--position", "--canvas"]),
        (["--margin", "10"], ["--margin", "--crop", "--canvas"]),
        (["--shadow-opacity", "0.3"], ["--shadow-opacity", "--shadow"]),
        (["--refine"], ["--refine", "--mask-only"]),
    ],
)
def test_conflicting_flags_are_a_usage_error_before_any_work(tmp_path, args, names):
    out = tmp_path / "out"
    proc = run_cli("cut", "samples/chelsea.jpg", "--out", str(out), *args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert all(name in proc.stderr for name in names), proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--background", "blur", "--blur", "30"],  # --blur is the strength of the blurred background
        ["--canvas", "800x800", "--fill", "0.5", "--position", "bottom", "--margin", "10"],
        [
            "--preset",
            "portrait-4x5-shadow",
            "--fill",
            "0.5",
            "--shadow-opacity",
            "0.2",
        ],  # the preset's canvas and shadow
        [
            "--preset",
            "marketplace-white-square",
            "--background-image",
            str(ROOT / "samples" / "coffee.jpg"),
        ],  # overrides its colour
        ["--crop", "--margin", "4"],
        ["--mask-only", "--refine"],
    ],
)
def test_flags_that_modify_each_other_pass(args):
    from backgrone.cli import _options, build_parser

    _options(build_parser().parse_args(["cut", "x.png", "--out", "o", *args]))  # no error
