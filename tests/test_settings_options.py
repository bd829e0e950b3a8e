"""The extension's settings reach the core as the CLI's flags do: for each case, Node prints what
extension/lib/settings.js pipelineOptions sends, and the core's Options.from_dict must accept it
and build exactly the Options the CLI builds from the matching flags (every named preset included)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from backgrone.cli import _options, build_parser
from backgrone.pipeline import Options
from backgrone.presets import load_presets
from composites import composite
from conftest import ROOT

# (extension settings changed from the defaults, the CLI flags that ask for the same)
CASES = {
    "defaults": ({}, []),
    "colour": ({"output": "color", "background": "#00ff00"}, ["--background", "#00ff00"]),
    "blur": ({"output": "blur", "blur": 35}, ["--background", "blur", "--blur", "35"]),
    "blur+drop 40%": (
        {"output": "blur", "shadow": "drop", "shadowOpacity": 40},
        ["--background", "blur", "--shadow", "drop", "--shadow-opacity", "0.4"],
    ),
    "contact on transparent": ({"shadow": "contact"}, ["--shadow", "contact"]),
    "crop": ({"crop": True, "margin": 9}, ["--crop", "--margin", "9"]),
    "custom canvas": (
        {
            "preset": "custom",
            "output": "color",
            "background": "#ffffff",
            "canvasWidth": 1600,
            "canvasHeight": 2000,
            "fill": 80,
            "position": "bottom",
            "canvasMargin": 80,
        },
        ["--canvas", "1600x2000", "--fill", "0.8", "--position", "bottom", "--margin", "80", "--background", "#ffffff"],
    ),
    "custom canvas, blur, webp": (
        {"preset": "custom", "output": "blur", "canvasWidth": 1000, "canvasHeight": 1000, "format": "webp"},
        ["--canvas", "1000x1000", "--fill", "0.85", "--background", "blur", "--format", "webp"],
    ),
    "no clean-up": ({"refine": False}, ["--no-despeckle", "--no-edges", "--no-decontaminate"]),
}
# The picture output: the settings send no bytes; the engine adds the kept picture's
# (background_store.js withBackgroundImage), and Pyodide's to_py() turns that Uint8Array into
# a memoryview (extension/engine/bridge.py passes it on as it is).
PICTURE = {"name": "beach.png", "type": "image/png", "size": 1, "width": 64, "height": 48}
PICTURE_CASES = {
    "picture": ({"output": "image", "backgroundPicture": PICTURE}, []),
    "picture, drop shadow, marketplace canvas": (
        {"output": "image", "backgroundPicture": PICTURE, "shadow": "drop", "preset": "custom"},
        ["--shadow", "drop", "--canvas", "2000x2000", "--fill", "0.85"],
    ),
}
PRESETS = sorted(load_presets())

# Node: each case's settings (a named preset chosen as the form chooses it) through pipelineOptions.
SCRIPT = """
import { readFileSync } from 'node:fs';
const en = JSON.parse(readFileSync('_locales/en/messages.json', 'utf8'));
globalThis.chrome = { i18n: { getMessage: (key) => en[key]?.message ?? '' } };
const { validate, choosePreset, pipelineOptions } = await import('./extension/lib/settings.js');
const { parsePresets } = await import('./extension/lib/presets.js');
const presets = parsePresets(JSON.parse(readFileSync('models/presets.json', 'utf8')));
const [cases, names] = JSON.parse(process.argv[1]);
const out = {};
for (const [id, changes] of Object.entries(cases)) out[id] = pipelineOptions(validate(changes), presets);
for (const name of names) out[name] = pipelineOptions(validate(choosePreset(name, presets)), presets);
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def mapped() -> dict:
    node = shutil.which("node")
    assert node, "Node 20 is needed (see the README)"
    cases = {k: v[0] for k, v in {**CASES, **PICTURE_CASES}.items()}
    run = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT, json.dumps([cases, PRESETS])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def cli(*flags: str) -> Options:
    return _options(build_parser().parse_args(["cut", "photo.png", "--out", "out", *flags]))


@pytest.mark.parametrize("case", CASES)
def test_each_choice_is_what_the_cli_flags_ask_for(mapped, case):
    assert Options.from_dict(mapped[case]) == cli(*CASES[case][1])


@pytest.mark.parametrize("name", PRESETS)
def test_each_named_preset_is_the_clis_preset(mapped, name):
    assert Options.from_dict(mapped[name]) == cli("--preset", name)


@pytest.mark.parametrize("case", PICTURE_CASES)
def test_the_picture_output_is_what_background_image_asks_for(mapped, case, tmp_path):
    picture = tmp_path / "beach.png"
    picture.write_bytes(composite("box", 64, 48, seed=3)[0])
    sent = mapped[case]
    assert "background_image" not in sent  # no bytes in messages: the engine adds them
    with_bytes = {**sent, "background_image": memoryview(picture.read_bytes())}
    built = Options.from_dict(with_bytes)
    assert built == cli("--background-image", str(picture), *PICTURE_CASES[case][1])
    assert type(built.background_image) is bytes
