import numpy as np

from backgrone.preprocess import mask_from_output, to_tensor


def test_isnet_style_tensor(tiny_spec):
    rgba = np.zeros((50, 70, 4), np.uint8)
    rgba[..., 0] = 192
    rgba[..., 1] = 128
    rgba[..., 2] = 0
    rgba[..., 3] = 7  # alpha never reaches the model
    t = to_tensor(rgba, tiny_spec)
    assert t.shape == (1, 3, 24, 32) and t.dtype == np.float32 and t.flags.c_contiguous
    np.testing.assert_allclose(t[0, :, 5, 5], [(192 - 128) / 64, 0, -2])


def test_real_catalogue_normalisations(catalogue):
    rgba = np.full((20, 20, 4), 255, np.uint8)
    isnet = to_tensor(rgba, catalogue.get("medium"))
    assert isnet.shape == (1, 3, 1024, 1024)
    np.testing.assert_allclose(isnet[0, :, 0, 0], (255 - 128) / 256)
    u2 = to_tensor(rgba, catalogue.get("fast"))
    assert u2.shape == (1, 3, 320, 320)
    # rembg: divide by the image max, then ImageNet mean/std
    np.testing.assert_allclose(u2[0, :, 0, 0], (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225], rtol=1e-5)


def test_mask_activations(catalogue, tiny_spec):
    raw = np.array([[[[-2.0, 0.0], [1.0, 3.0]]]], np.float32)
    np.testing.assert_allclose(mask_from_output(raw, tiny_spec), 1 / (1 + np.exp(-raw[0, 0])), rtol=1e-6)
    np.testing.assert_allclose(mask_from_output(raw, catalogue.get("fast")), [[0, 0.4], [0.6, 1.0]], rtol=1e-6)
    clipped = mask_from_output(raw, catalogue.get("standard"))  # already a probability: only clipped
    assert clipped.min() == 0.0 and clipped.max() == 1.0 and clipped[1, 0] == 1.0


def test_flat_output_gives_empty_mask(catalogue):
    flat = np.full((1, 1, 4, 4), 0.3, np.float32)
    assert not mask_from_output(flat, catalogue.get("fast")).any()


def test_tensor_ignores_alpha_and_matches_an_rgb_resize(catalogue):
    """The RGBA buffer is read in place as RGBX: the same values as resizing the RGB channels alone,
    whatever the alpha holds, for every engine's filter and size."""
    from PIL import Image

    from backgrone.preprocess import resample_filter

    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, size=(301, 457, 4), dtype=np.uint8)
    for spec in catalogue.engines.values():
        rgb = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB").resize(
            spec.input_size, resample_filter(spec.resize)
        )
        norm = spec.normalise
        x = np.asarray(rgb, dtype=np.float32)
        if norm.scale_to_max:
            x = x / max(float(x.max()), 1e-6)
        x = (x - np.asarray(norm.mean, np.float32)) / np.asarray(norm.std, np.float32)
        expected = x.transpose(2, 0, 1)[np.newaxis]
        opaque = rgba.copy()
        opaque[..., 3] = 255
        assert np.array_equal(to_tensor(rgba, spec), expected)
        assert np.array_equal(to_tensor(opaque, spec), expected)
        # a cropped (non-contiguous) view gives the same as its copy
        view = rgba[10:200, 20:300]
        assert np.array_equal(to_tensor(view, spec), to_tensor(view.copy(), spec))
