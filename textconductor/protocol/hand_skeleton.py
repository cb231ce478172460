"""The 21-point hand (MediaPipe's landmark numbering) that the hand controller tracks and the window draws.

It lives in the protocol because both sides need the same picture of a hand: the controller
(what it measures) and the frontend's overlay (what it draws), and neither may import the other.
"""

from __future__ import annotations

# Bones for drawing the overlay (MediaPipe's hand connections): wrist 0; thumb 1-4; index 5-8; middle 9-12;
# ring 13-16; little 17-20.
CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
