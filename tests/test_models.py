"""The real models on generated composites with a known alpha (issue #2's quality bar)."""

import numpy as np
import pytest

from backgrone import Options, cut, load_catalogue
from backgrone.fetch import fetch_engine
from backgrone.infer import OnnxSegmenter
from composites import composite, iou
from conftest import decode_png

pytestmark = pytest.mark.model

ENGINES = ["fast", "standard", "detailed", "medium"]


@pytest.fixture(scope="module", params=ENGINES)
def segmenter(request):
    spec = load_catalogue().get(request.param)
    return OnnxSegmenter(fetch_engine(spec), spec)  # fetch is a no-op once verified


@pytest.mark.parametrize("kind,seed", [("ball", 0), ("ball", 1), ("box", 0), ("box", 2)])
def test_iou_against_known_alpha(segmenter, kind, seed):
    data, truth = composite(kind, seed=seed)
    out = decode_png(cut(data, segmenter))
    assert out.mode == "RGBA" and out.size == (640, 480)
    alpha = np.asarray(out, np.float32)[..., 3] / 255
    assert iou(alpha, truth) >= 0.9
    # corners are background, the centre of the subject is opaque
    assert alpha[:20, :20].max() < 0.1 and alpha[-20:, -20:].max() < 0.1
    assert alpha[250, 320] > 0.9


def test_real_model_output_is_byte_identical(segmenter):
    data, _ = composite("box", seed=1)
    opts = Options(crop=True, margin=6)
    assert cut(data, segmenter, opts) == cut(data, segmenter, opts)
