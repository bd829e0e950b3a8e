"""The editor's session (backgrone.edit_session, Host.edit_*): applied one edit at a time, replayed
for undo, re-detects' model outputs kept, and the same bytes as the CLI's ``cut --edits``."""

import numpy as np
import pytest

from backgrone.edit_log import EditLogError, parse
from backgrone.edit_session import EditSession, NeedsModel
from backgrone.edits import apply_edits
from backgrone.host import Host
from backgrone.pipeline import Options, Prepared, finish, start_alpha
from test_edits import H, Ones, W, half_plane, photo

EDITS = [
    {"op": "keep", "radius": 7, "points": [[90, 40], [96, 70]]},
    {"op": "remove", "radius": 5.5, "points": [[30, 100], [50, 105]]},
    {"op": "redetect", "box": [60, 10, 140, 80]},
    {"op": "keep", "polygon": [[100, 90], [150, 95], [140, 115]]},
    {"op": "toggle", "point": [10, 10]},
]


class Ramp(Ones):
    """A fake model whose mask rises from left to right (soft everywhere: edge refinement shows)."""

    def run(self, tensor):
        self.seen.append(tensor.shape)
        h, w = tensor.shape[2:]
        return np.repeat(np.linspace(0, 1, w, dtype=np.float32)[None, :], h, axis=0)


class Never:
    """A model that must not run (every re-detect's mask is already kept)."""

    def __init__(self, spec):
        self.spec = spec

    def run(self, tensor):
        raise AssertionError("the model ran again")


@pytest.fixture
def scene(tiny_spec):
    rgba = photo(half_plane(80, 2), seed=5)
    rgba[:4, :4, 3] = 0  # a source with its own transparency
    mask = np.zeros((24, 32), np.float32)
    mask[:, :15] = 1.0
    mask[:, 15] = 0.5
    mask[3:5, 25:27] = 1.0  # a stray blob
    return Prepared(rgba=rgba), mask


def log(edits):
    return parse({"version": 1, "edits": edits})


def changed_outside(before, after, box):
    x0, y0, x1, y1 = box
    outside = np.ones(before.shape, bool)
    outside[y0:y1, x0:x1] = False
    return int(((before != after) & outside).sum())


@pytest.mark.parametrize(
    "options", [Options(), Options(output="mask"), Options(crop=True, margin=4), Options(edges=False, format="webp")]
)
def test_one_edit_at_a_time_gives_the_replay_and_the_clis_bytes(scene, tiny_spec, options):
    prepared, mask = scene
    model = Ramp(tiny_spec)
    session = EditSession(prepared, mask, options, tiny_spec)
    assert np.array_equal(session.start, start_alpha(prepared, mask, options))
    for n in range(1, len(EDITS) + 1):
        before = session.alpha.copy()
        change = session.set_edits(EDITS[:n], model)
        replayed = apply_edits(
            session.guide, session.start, log(EDITS[:n]), Ramp(tiny_spec), edges=options.uses("edges")
        ).alpha
        assert change.length == n and np.array_equal(session.alpha, replayed)
        assert change.box is not None and changed_outside(before, session.alpha, change.box) == 0
    assert len(model.seen) == 1  # the re-detect ran the model once
    data, size = session.render()
    assert data == finish(prepared, mask, options, log(EDITS), Ramp(tiny_spec))
    assert size[0] >= 1 and size[1] >= 1
    # Another list as long (an imported log): replayed from the start, not added on.
    other = [*EDITS[:3], {"op": "remove", "radius": 6, "points": [[70, 60]]}, EDITS[4]]
    session.set_edits(other, Never(tiny_spec))
    replayed = apply_edits(session.guide, session.start, log(other), Ramp(tiny_spec), edges=options.uses("edges"))
    assert np.array_equal(session.alpha, replayed.alpha)


def test_undo_redo_and_reset_replay_without_the_model(scene, tiny_spec):
    prepared, mask = scene
    session = EditSession(prepared, mask, Options(), tiny_spec)
    session.set_edits(EDITS, Ones(tiny_spec, 0.8))
    full = session.alpha.copy()
    undone = session.set_edits(EDITS[:-1], Never(tiny_spec))  # the toggle goes
    assert undone.length == len(EDITS) - 1 and not np.array_equal(session.alpha, full)
    assert changed_outside(full, session.alpha, undone.box) == 0
    assert np.array_equal(
        session.alpha, apply_edits(session.guide, session.start, log(EDITS[:-1]), Ones(tiny_spec, 0.8)).alpha
    )
    assert session.set_edits(EDITS, Never(tiny_spec)).box is not None  # redo: one more edit
    assert np.array_equal(session.alpha, full)
    reset = session.set_edits([], Never(tiny_spec))
    assert reset.length == 0 and session.alpha.tobytes() == session.start.tobytes()
    assert session.render()[0] == finish(prepared, mask, Options())  # no edits: the job's own bytes
    assert session.set_edits([]).box is None  # nothing changed


def test_a_redetect_without_its_output_asks_for_the_model_input(scene, tiny_spec):
    prepared, mask = scene
    session = EditSession(prepared, mask, Options(), tiny_spec)
    session.set_edits(EDITS[:2])
    before = session.alpha.copy()
    with pytest.raises(NeedsModel) as asked:
        session.set_edits(EDITS[:3])
    assert session.log == log(EDITS[:2]).edits and np.array_equal(session.alpha, before)  # nothing changed
    ((key, tensor),) = asked.value.inputs.items()
    assert tensor.shape == (1, 3, 24, 32) and tensor.dtype == np.float32
    session.provide(key, np.full(24 * 32, 2.0, np.float32))  # raw output: sigmoid(2) = 0.88
    change = session.set_edits(EDITS[:3])
    assert change.length == 3 and (session.alpha != before).any()
    direct = apply_edits(session.guide, session.start, log(EDITS[:3]), Ones(tiny_spec, 1 / (1 + np.exp(-2.0)))).alpha
    assert np.array_equal(session.alpha, direct)


@pytest.mark.parametrize(
    "bad, says",
    [
        ({"op": "keep", "radius": 5, "points": [[500, 10]]}, "outside"),
        ({"op": "paint", "point": [5, 5]}, "paint"),
        ({"op": "keep", "radius": -1, "points": [[5, 5]]}, "radius"),
        ({"op": "keep", "polygon": [[5, 5], [6, 6]]}, "at least 3"),
    ],
)
def test_a_bad_edit_leaves_the_state_unchanged_and_names_the_problem(scene, tiny_spec, bad, says):
    prepared, mask = scene
    session = EditSession(prepared, mask, Options(), tiny_spec)
    session.set_edits(EDITS[:2])
    before, was = session.alpha.copy(), session.log
    with pytest.raises(EditLogError, match=says):
        session.set_edits([*EDITS[:2], bad])
    assert session.log == was and np.array_equal(session.alpha, before)


def test_the_hosts_session_round_trip(scene, tiny_spec):
    """The extension's calls: open on the raw output, a re-detect's need, provide, render."""
    from conftest import TINY_ENGINE

    prepared, mask = scene
    host = Host({"default_engine": "tiny", "engines": {"tiny": TINY_ENGINE}})
    raw = np.log(np.clip(mask, 1e-3, 1 - 1e-3) / (1 - np.clip(mask, 1e-3, 1 - 1e-3))).astype(np.float32)
    opened = host.edit_open(prepared, raw.tobytes(), "tiny", {"crop": True})
    assert (opened["width"], opened["height"]) == (W, H)
    session = opened["session"]
    need = host.edit_set(session, EDITS[:3])
    assert [n["shape"] for n in need["need"]] == [[1, 3, 24, 32]]
    assert host.edit_provide(session, need["need"][0]["key"], np.zeros(24 * 32, np.float32).tobytes()) == {}
    state = host.edit_set(session, EDITS[:3])
    assert state["length"] == 3 and len(state["box"]) == 4
    bad = host.edit_set(session, [{"op": "toggle", "point": [W, 0]}])
    assert "far edge" in bad["error"] and bad["kind"] == "EditLogError"
    assert host.edit_set(session, EDITS[:3]) == {"length": 3}  # the bad log changed nothing
    short = host.edit_provide(session, "x", np.zeros(5, np.float32).tobytes())
    assert "5 values" in short["error"]
    rendered = host.edit_render(session)
    model_mask = session.mask
    expected = finish(prepared, model_mask, Options(crop=True), log(EDITS[:3]), Ones(tiny_spec, 0.5))
    assert rendered["data"] == expected and rendered["mime"] == "image/png"
    assert (rendered["width"], rendered["height"]) != (W, H)  # cropped, as the job's options ask
