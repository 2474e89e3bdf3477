"""Pacing virtual time against the wall clock (DESIGN: jumps never replay ticks; PITFALLS R40)."""

from __future__ import annotations

from lambdalab.ui.pacing import MAX_STEP_S, SPEEDS, Pacer


def test_virtual_time_follows_speed() -> None:
    pacer = Pacer(speed=10)
    assert pacer.advance(0.1) == 1000.0
    pacer.speed = 1000
    assert pacer.advance(0.1) == 100_000.0


def test_a_long_gap_is_not_replayed_r40() -> None:
    # After a laptop sleep of 8 hours the lab moves one tick's worth, not 8 hours.
    pacer = Pacer(speed=100)
    assert pacer.advance(8 * 3600) == MAX_STEP_S * 100 * 1000
    assert pacer.skipped_s == 8 * 3600 - MAX_STEP_S


def test_paused_time_does_not_move() -> None:
    pacer = Pacer(speed=10, paused=True)
    assert pacer.advance(1.0) == 0.0
    assert pacer.requested_ms == 0.0


def test_speed_ladder_from_1x_to_1000x() -> None:
    pacer = Pacer(speed=1)
    seen = [pacer.speed]
    while pacer.speed < 1000:
        seen.append(pacer.faster())
    assert seen == list(SPEEDS)
    assert pacer.faster() == 1000
    assert pacer.slower() == 500
