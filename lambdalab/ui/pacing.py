"""Paces virtual time against the wall clock without replaying missed time."""

from __future__ import annotations

from dataclasses import dataclass

SPEEDS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
MAX_STEP_S = 0.25
"""The most real time one tick may account for: after a sleep or a stall the lab
continues from where it was instead of racing to catch up (PITFALLS R40)."""


@dataclass
class Pacer:
    """How far virtual time should move for the real time that passed."""

    speed: float = 10.0
    paused: bool = False
    requested_ms: float = 0.0
    """Virtual time asked for since start (for measuring lag)."""
    skipped_s: float = 0.0
    """Real time not replayed because a tick came late (a sleep, a busy machine)."""

    def advance(self, real_elapsed_s: float) -> float:
        """Virtual milliseconds to run for ``real_elapsed_s`` of wall time."""
        if self.paused or real_elapsed_s <= 0:
            return 0.0
        step = min(real_elapsed_s, MAX_STEP_S)
        self.skipped_s += real_elapsed_s - step
        virtual = step * self.speed * 1000.0
        self.requested_ms += virtual
        return virtual

    def faster(self) -> float:
        """The next speed up the ladder."""
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])
        return self.speed

    def slower(self) -> float:
        """The next speed down the ladder."""
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])
        return self.speed
