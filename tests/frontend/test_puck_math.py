"""The puck's weight law: pure numpy, no Qt."""

from __future__ import annotations

import numpy as np
import pytest

from textconductor.protocol.puck_geometry import (
    clamp_to_disc,
    max_snap,
    puck_from_weights,
    puck_weights,
    style_positions,
)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 27])
def test_weights_sum_to_one_and_are_nonnegative(n):
    pos = style_positions(n)
    rng = np.random.default_rng(n)
    for xy in rng.uniform(-1.1, 1.1, size=(200, 2)):
        w = puck_weights(xy, pos)
        assert w.shape == (n,)
        assert np.all(w >= 0)
        assert w.sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_centre_gives_equal_weights(n):
    assert np.allclose(puck_weights((0, 0), style_positions(n)), 1 / n)


@pytest.mark.parametrize("n", [3, 5, 6])
def test_rotational_symmetry_permutes_weights(n):
    """Rotating the puck by one style's angle shifts the weights by one style."""
    pos = style_positions(n)
    xy = np.array([0.31, -0.22])
    a = -2 * np.pi / n  # clockwise: style i moves to style i+1's place
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    w, w_rot = puck_weights(xy, pos), puck_weights(rot @ xy, pos)
    assert np.allclose(np.roll(w, 1), w_rot)


def test_mirror_symmetry():
    pos = style_positions(4)  # top, right, bottom, left
    w = puck_weights((0.3, 0.2), pos)
    w_m = puck_weights((-0.3, 0.2), pos)
    assert w[1] == pytest.approx(w_m[3]) and w[0] == pytest.approx(w_m[0]) and w[2] == pytest.approx(w_m[2])


def test_snap_radius_gives_one_style_alone():
    pos = style_positions(5)
    for i, p in enumerate(pos):
        for off in ([0, 0], [0.1, 0.0], [0.0, -0.12], [0.09, 0.09]):
            w = puck_weights(p + np.array(off), pos, snap_radius=0.15)
            assert w[i] == 1.0 and w.sum() == 1.0
    # just outside the snap circle others already count, but the near style dominates
    w = puck_weights(pos[2] + [0.0, 0.2], pos, snap_radius=0.15)
    assert 0.9 < w[2] < 1.0 and np.all(w > 0)


def test_no_jump_at_the_snap_edge():
    pos = style_positions(4)
    r = 0.18
    direction = -pos[0]  # from style 0 towards the centre
    prev = None
    for d in np.linspace(r + 1e-4, r + 0.05, 200):
        w = puck_weights(pos[0] + direction * d, pos, snap_radius=r)
        if prev is not None:
            assert abs(w[0] - prev) < 0.01  # continuous: small steps, decreasing away from the style
            assert w[0] <= prev + 1e-12
        prev = w[0]
    assert puck_weights(pos[0] + direction * (r + 1e-4), pos, r)[0] > 0.999


def test_closer_style_weighs_more():
    pos = style_positions(3)
    for t in np.linspace(0.05, 0.75, 15):
        w = puck_weights(pos[0] * t, pos, snap_radius=0.1)
        assert w[0] > w[1] and w[1] == pytest.approx(w[2])


def test_degenerate_counts():
    assert puck_weights((0.2, 0.1), style_positions(0)).shape == (0,)
    assert puck_weights((0.9, -0.9), style_positions(1)).tolist() == [1.0]


def test_puck_from_weights_round_trips_one_hot_and_equal():
    pos = style_positions(6)
    for i in range(6):
        onehot = np.eye(6)[i]
        xy = puck_from_weights(onehot, pos)
        assert np.allclose(xy, pos[i])
        assert np.allclose(puck_weights(xy, pos), onehot)  # the displayed puck gives the same weights back
    assert np.allclose(puck_from_weights(np.ones(6), pos), 0)
    assert np.allclose(puck_from_weights(np.zeros(6), pos), 0)


def test_positions_start_at_top_clockwise():
    pos = style_positions(4)
    assert np.allclose(pos, [[0, 1], [1, 0], [0, -1], [-1, 0]], atol=1e-12)


def test_clamp_to_disc():
    assert np.allclose(clamp_to_disc([3.0, 4.0], 1.0), [0.6, 0.8])
    assert np.allclose(clamp_to_disc([0.1, 0.2]), [0.1, 0.2])


def test_many_styles_shrink_the_snap_so_neighbours_blend():
    """24 styles sit 0.26 apart: halfway between two neighbours both must weigh, not one snap."""
    pos = style_positions(24)
    assert max_snap(pos) == pytest.approx(0.35 * 2 * np.sin(np.pi / 24))
    mid = (pos[0] + pos[1]) / 2
    w = puck_weights(mid, pos, snap_radius=0.18)
    assert w[0] == pytest.approx(w[1]) and w[0] > 0.3
    assert puck_weights(pos[3] * 0.97, pos, snap_radius=0.18)[3] == 1.0  # still snaps on the icon
    assert max_snap(style_positions(8)) > 0.18  # few styles: the set radius holds
