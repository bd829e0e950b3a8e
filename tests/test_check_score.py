"""The "check these first" score of a cut-out from the model's own mask."""

import numpy as np

from backgrone import check_score
from backgrone.pipeline import Options, compose
from test_backgrounds import scene


def blob(h=384, w=512, soft=2.0):
    """A disc as a model mask at its own resolution: a rim of about ``soft`` cells."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.clip((120 - np.hypot(yy - h / 2, xx - w / 2)) / soft + 0.5, 0, 1).astype(np.float32)


def test_a_clean_subject_scores_low_and_is_not_flagged():
    mask = blob()
    assert check_score.score(mask) < 0.2
    assert check_score.report(mask) == {"check": check_score.score(mask), "flag": False}


def test_an_undecided_mask_scores_high():
    mask = blob()
    mask[mask < 0.5] = np.where(mask[mask < 0.5] > 0, 0.45, 0.3)  # half believes the background
    assert check_score.uncertainty(mask) > check_score.UNCERTAIN_FULL
    assert check_score.report(mask)["flag"]


def test_a_subject_cut_by_the_frame_scores_high():
    mask = blob()
    mask[:, :20] = 1.0  # a second subject running off the left edge
    assert check_score.touching(mask) >= check_score.TOUCH_FULL
    assert check_score.report(mask)["flag"]
    assert check_score.score(blob()) < check_score.score(mask)


def test_the_score_is_exact_whatever_the_order():
    mask = blob(soft=9.0)
    assert check_score.score(mask) == check_score.score(mask[::-1, ::-1].copy()) == check_score.score(mask.T.copy())


def test_the_baseline_soft_share():
    alpha = np.zeros((10, 10), np.uint8)
    alpha[2:8, 2:8] = 255
    assert check_score.soft_share(alpha) == 0
    alpha[2:8, 2] = 128  # one column of six soft pixels in a subject of 36
    assert check_score.soft_share(alpha) == 6 / 36


def test_compose_reports_the_score():
    prepared, mask = scene()
    report: dict = {}
    compose(prepared, mask, Options(), report=report)
    assert report == check_score.report(mask)
