"""Host.complete says how likely each cut-out is to need a fix (the popup's "check these first")."""

import numpy as np

from backgrone import check_score
from backgrone.catalogue import Catalogue
from backgrone.host import Host
from backgrone.preprocess import mask_from_output
from test_pipeline import photo


def test_complete_returns_the_check_score_and_flag(tiny_spec):
    host = Host(Catalogue(engines={"tiny": tiny_spec}, default_engine="tiny"))
    started = host.start(photo(97, 61), "tiny")
    w, h = tiny_spec.input_size
    # Logits (the tiny model's activation is a sigmoid).
    sure = np.full((h, w), -20.0, np.float32)
    sure[:, : w // 2] = 20.0  # every value decided: nothing to check
    unsure = np.tile(np.linspace(3.0, -3.0, w, dtype=np.float32), (h, 1))  # undecided across the frame
    results = []
    for raw in (sure, unsure):
        done = host.complete(started["prepared"], raw.tobytes(), "tiny", {"output": "color", "canvas": [64, 64]})
        expected = check_score.report(mask_from_output(raw, tiny_spec))
        assert type(done["check"]) is float and type(done["flag"]) is bool
        assert (done["check"], done["flag"]) == (expected["check"], expected["flag"])
        assert (done["width"], done["height"]) == (64, 64)
        results.append(done)
    assert results[0]["check"] == 0.0 and results[0]["flag"] is False
    assert results[1]["check"] >= check_score.FLAG_AT and results[1]["flag"] is True
