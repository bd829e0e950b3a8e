"""A soft shadow from the subject's own alpha: only outside the subject, and on a transparent
output a semi-transparent layer of its own colour."""

import numpy as np
import pytest

from backgrone.errors import OptionsError
from backgrone.pipeline import Options
from backgrone.shadow import shadow
from test_backgrounds import run, scene


@pytest.mark.parametrize("style", ["contact", "drop"])
def test_the_shadow_lies_only_outside_the_subject(style):
    prepared, mask = scene()
    plain = run(prepared, mask, output="color").astype(int)
    shaded = run(prepared, mask, output="color", shadow=style).astype(int)
    alpha = run(prepared, mask)[..., 3]
    changed = np.any(plain != shaded, axis=2)
    assert changed.sum() > 500  # there is a shadow...
    assert np.all(alpha[changed] < 255)  # ...and none of it on the subject's opaque pixels
    assert np.all(shaded[changed].sum(axis=1) < plain[changed].sum(axis=1))  # it darkens
    rows = np.nonzero(changed & (alpha == 0))[0]
    subject_bottom = np.nonzero(alpha == 255)[0].max()
    if style == "contact":  # under the subject, where it meets the floor
        assert rows.min() > subject_bottom - 30 and rows.mean() > subject_bottom
    else:  # cast down and to the right
        cols = np.nonzero(changed & (alpha == 0))[1]
        assert cols.mean() > alpha.shape[1] / 2 and rows.mean() > alpha.shape[0] / 2


def test_on_a_transparent_cutout_the_shadow_is_its_own_layer():
    prepared, mask = scene()
    cut = run(prepared, mask)
    shaded = run(prepared, mask, shadow="drop", shadow_opacity=0.5)
    layer = shadow(cut[..., 3], "drop", 0.5)
    assert layer is not None and layer.max() > 100
    outside = cut[..., 3] == 0
    # Where the subject is not, the pixel is the shadow alone: black at the shadow's alpha;
    # nothing of the removed background (green/blue) is in it.
    assert np.array_equal(shaded[outside][:, 3], layer[outside])
    assert np.all(shaded[outside][:, :3] == 0)
    opaque = cut[..., 3] == 255
    assert np.array_equal(shaded[opaque], cut[opaque])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"shadow": "long"}, "unknown shadow 'long'"),
        ({"shadow": "drop", "shadow_opacity": 0}, "opacity must be a number above 0"),
        ({"shadow": "drop", "shadow_opacity": 1.5}, "opacity must be a number above 0"),
        ({"shadow": "drop", "shadow_blur": -1}, "blur must be a share"),
        ({"shadow": "drop", "shadow_offset": [0.1]}, "offset must be two shares"),
        ({"output": "mask", "shadow": "drop"}, "a mask has no canvas or shadow"),
    ],
)
def test_bad_shadow_values_are_refused(options, message):
    with pytest.raises(OptionsError, match=message):
        Options.from_dict(options)


def test_no_subject_no_shadow():
    assert shadow(np.zeros((50, 60), np.uint8), "drop") is None
    assert shadow(np.full((50, 60), 255, np.uint8), "none") is None


def test_a_see_through_colour_takes_the_shadow_too():
    prepared, mask = scene()
    plain = run(prepared, mask, output="color", background="#ffffff80")
    shaded = run(prepared, mask, output="color", background="#ffffff80", shadow="drop")
    outside = run(prepared, mask)[..., 3] == 0
    darker = outside & (shaded[..., 3] > plain[..., 3])
    assert darker.sum() > 500 and np.all(shaded[darker][:, :3] < 255)
