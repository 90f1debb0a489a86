"""The CPU-drawn preview: a model's triangles shaded, framed and on a transparent ground."""

from __future__ import annotations

import numpy as np

from conjure.formats import thumbnail

CUBE_VERTS = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
CUBE_FACES = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4),
              (1, 5, 7, 3)]
CUBE_TRIS = [t for a, b, c, d in CUBE_FACES for t in ((a, b, c), (a, c, d))]


def picture(verts, tris, size=64):
    return thumbnail.render(verts, tris, size=size).reshape(size, size, 4)


def test_a_cube_fills_the_middle_and_shows_three_shades_on_a_clear_ground():
    image = picture(CUBE_VERTS, CUBE_TRIS)
    alpha = image[..., 3]
    assert alpha[32, 32] == 1.0 and alpha[0, 0] == 0.0 and alpha[-1, -1] == 0.0
    covered = alpha > 0.99
    assert 0.3 < covered.mean() < 0.8
    shades = {round(float(v), 2) for v in image[covered][:, 0]}
    assert len(shades) >= 3  # three sides seen, lit differently


def test_the_model_is_framed_whatever_its_size_and_place():
    small = picture(CUBE_VERTS, CUBE_TRIS)
    far = picture(np.array(CUBE_VERTS) * 1000 + 5000, CUBE_TRIS)
    assert np.abs(small[..., 3] - far[..., 3]).mean() < 0.02


def test_nothing_to_draw_gives_a_clear_picture():
    image = thumbnail.render(np.zeros((0, 3)), np.zeros((0, 3), dtype=int), size=16)
    assert image.shape == (16 * 16 * 4,) and not image.any()


def test_the_front_hides_what_is_behind_it():
    # A square nearer the camera hides a small, tilted one (lit differently) straight behind
    # it, whichever comes first in the list: the picture is the square's alone.
    towards = thumbnail._view(np.eye(3))[:, 2]  # from the model to the camera
    big = np.array([(-1, 0, -1), (1, 0, -1), (1, 0, 1), (-1, 0, 1)], dtype=float)
    small = np.array([(-0.2, -0.2, -0.2), (0.2, -0.2, -0.2), (0.2, 0.2, 0.2),
                      (-0.2, 0.2, 0.2)])
    front, back = big + 3 * towards, small - 3 * towards
    square = [(0, 1, 2), (0, 2, 3)]
    tris = square + [(a + 4, b + 4, c + 4) for a, b, c in square]
    alone = picture(front, square)
    assert np.abs(picture(np.vstack([front, back]), tris) - alone).max() < 0.05
    assert np.abs(picture(np.vstack([back, front]), [[(a + 4) % 8 for a in t] for t in tris])
                  - alone).max() < 0.05
    # The two are told apart where the small one is drawn in front instead.
    swapped = picture(np.vstack([big - 3 * towards, small + 3 * towards]), tris)
    assert np.abs(swapped - alone).max() > 0.05
