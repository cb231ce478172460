"""The room's arithmetic as pure functions (property-tested): each phone's weights are the window's
puck law, the crowd is their mean, silent phones stop counting, the cloud is a bounded sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textconductor.controllers.audience.aggregate import (
    Room,
    by_bank,
    crowd_weights,
    fresh,
    phone_weights,
    sample_points,
)
from textconductor.protocol.puck_geometry import puck_weights, style_positions

coord = st.floats(-1.15, 1.15, allow_nan=False)
pucks = st.lists(st.tuples(coord, coord), min_size=1, max_size=40)
n_styles = st.integers(1, 24)


@settings(deadline=None)
@given(pucks, n_styles)
def test_each_phone_gets_the_windows_puck_law(ps, n):
    w = phone_weights(np.array(ps), n)
    pos = style_positions(n)
    for row, p in zip(w, ps, strict=True):
        np.testing.assert_allclose(row, puck_weights(p, pos), atol=1e-12)


@settings(deadline=None)
@given(pucks, n_styles, st.randoms())
def test_crowd_is_the_mean_and_order_does_not_matter(ps, n, rnd):
    w = phone_weights(np.array(ps), n)
    crowd = crowd_weights(w, n)
    assert crowd.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(crowd, w.mean(axis=0))
    shuffled = list(ps)
    rnd.shuffle(shuffled)
    np.testing.assert_allclose(crowd_weights(phone_weights(np.array(shuffled), n), n), crowd, atol=1e-12)
    assert np.all(crowd >= w.min(axis=0) - 1e-12) and np.all(crowd <= w.max(axis=0) + 1e-12)


@given(st.integers(2, 24), st.integers(1, 30), st.integers(0, 30))
def test_phones_on_a_style_count_one_each(n, on_first, on_second):
    pos = style_positions(n)
    ps = [pos[0]] * on_first + [pos[1]] * on_second
    crowd = crowd_weights(phone_weights(np.array(ps), n), n)
    assert crowd[0] == pytest.approx(on_first / (on_first + on_second))
    assert crowd[1] == pytest.approx(on_second / (on_first + on_second))


def test_an_empty_room_has_no_weight():
    assert crowd_weights(phone_weights(np.zeros((0, 2)), 5), 5).tolist() == [0.0] * 5


@given(st.lists(st.floats(0, 100), max_size=30), st.floats(0, 200), st.floats(0.1, 50))
def test_fresh_is_heard_within_the_time_out(seen, now, stale):
    mask = fresh(np.array(seen), now, stale)
    assert mask.tolist() == [now - t < stale for t in seen]


def test_room_times_out_silent_phones_and_keepalives_hold_them():
    room = Room(stale_s=10.0)
    room.move(1, 0.0, 1.0, now=0.0)
    room.move(2, 0.5, 0.0, now=5.0)
    room.heard(3, now=5.0)  # a phone that never played does not join by pinging
    assert room.live(9.9)[0] == [1, 2]
    ids, pos = room.live(10.0)
    assert ids == [2] and pos.tolist() == [[0.5, 0.0]]
    room.heard(2, now=14.0)
    assert room.expire(20.0) == [1] and len(room) == 1
    assert room.live(23.9)[0] == [2]
    assert room.expire(24.0) == [2] and room.live(24.0)[0] == []
    room.move(4, 0, 0, now=30.0)
    assert room.leave(4) and not room.leave(4)


@given(st.integers(0, 1000), st.integers(1, 300))
def test_sample_is_bounded_and_taken_from_the_positions(p, cap):
    pos = np.arange(2 * p, dtype=np.float32).reshape(-1, 2)
    s = sample_points(pos, cap)
    assert len(s) == min(p, cap)
    assert {tuple(r) for r in s} <= {tuple(r) for r in pos}
    np.testing.assert_array_equal(s, sample_points(pos, cap))  # the same every time: no flicker


def test_by_bank_places_the_pucks_styles_in_bank_order():
    assert by_bank([0.25, 0.75], ["c", "a"], ["a", "b", "c"]) == [0.75, 0.0, 0.25]
