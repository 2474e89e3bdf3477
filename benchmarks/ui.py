"""UI benchmark: the lab at 1,000 concurrent environments and 100x, against Textual itself.

Prints, in one run:
- lab frames per second: lesson-screen ticks that advanced virtual time and redrew the
  lab, while 1,000 environments are busy and the speed is 100x (goal >= 20);
- lag: how far virtual time fell behind the pace the learner asked for (goal < 5%);
- time to the first frame of lambdalab's course map beside an empty Textual app's,
  both measured from ``run_test()`` to the Ready event in this process (goal <= 1.5x):
  the median of FIRST_FRAME_RUNS runs of each, taken in turns after one warm-up run
  of each, with garbage from the runs before collected first (the same for both).

Run: ``python benchmarks/ui.py [--seconds S]``. Nothing here is asserted: it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.model import Action, Course, LabFunction, LabSpec, Lesson, Step
from lambdalab.course.progress import ProgressStore
from lambdalab.ui.app import make_app
from lambdalab.ui.screens.lesson import LessonScreen

ENVIRONMENTS = 1_000
SPEED = 100.0
FIRST_FRAME_RUNS = 9


class EmptyApp(App[None]):
    """The peer: a Textual app with a header, a line of text and a footer."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("hello")
        yield Footer()


async def first_frame_ms(app: App[None]) -> float:
    """Milliseconds from run_test() until the app is ready (its first frame is drawn)."""
    gc.collect()  # a collection of earlier runs' garbage is no part of this start
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        elapsed = (time.perf_counter() - start) * 1000
        await pilot.pause()
    return elapsed


def load_lesson() -> Course:
    """A lab with one model function that keeps 1,000 environments busy for minutes."""
    text = "A thousand requests at once."
    lab = LabSpec(
        functions=(
            LabFunction(
                "busy", None, settings={"duration_ms": 800_000, "timeout_s": 900}
            ),
        ),
        events={"job": {}},
        seed=1,
        speed=SPEED,
        account={"concurrency_limit": 2 * ENVIRONMENTS, "unreserved_minimum": 100},
        burst=ENVIRONMENTS,
    )
    lesson = Lesson(
        id="load",
        title="1,000 environments",
        summary=text,
        objectives=(text,),
        steps=(Step("load", "Load", text),),
        lab=lab,
        solution=(Action("wait", {"seconds": 0}),),
        solution_text=text,
        recap=text,
        folder=Path("."),
    )
    return Course("benchmark", (lesson,), Path("."))


async def lab_under_load(seconds: float, home: Path) -> tuple[float, float, int]:
    """Frames per second, lag in percent and environments in flight."""
    app = make_app(load_lesson(), ProgressStore("bench", home=home), open_lesson="load")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await pilot.press("b")
        await pilot.pause(0.2)
        service = screen.session.service
        in_flight = service.in_flight["busy"]
        ticks = 0
        original = screen.tick

        def counted() -> None:
            nonlocal ticks
            ticks += 1
            original()

        screen.tick = counted  # type: ignore[method-assign]
        assert screen._timer is not None
        screen._timer._callback = counted  # the interval calls the bound method it got
        virtual0 = service.now_ms
        start = time.perf_counter()
        await pilot.pause(seconds)
        elapsed = time.perf_counter() - start
        virtual = service.now_ms - virtual0
        in_flight = min(in_flight, service.in_flight["busy"])
        expected = elapsed * SPEED * 1000
        lag = max(0.0, 1 - virtual / expected) * 100 if expected else 0.0
        return ticks / elapsed, lag, in_flight


async def main(seconds: float) -> None:
    home = Path(tempfile.mkdtemp(prefix="lambdalab-bench-"))
    os.environ["LAMBDALAB_HOME"] = str(home)
    course = load_course(bundled_lessons_path())
    empties: list[float] = []
    ours_runs: list[float] = []
    # In turns, so a change in the machine's load weighs on both alike.
    for i in range(FIRST_FRAME_RUNS + 1):
        empty_ms = await first_frame_ms(EmptyApp())
        our_ms = await first_frame_ms(
            make_app(course, ProgressStore(f"b{i}", home=home))
        )
        if i:  # the first of each is the warm-up
            empties.append(empty_ms)
            ours_runs.append(our_ms)
    empty = statistics.median(empties)
    ours = statistics.median(ours_runs)
    fps, lag, in_flight = await lab_under_load(seconds, home)
    print(
        f"first frame: empty Textual app {empty:6.1f} ms, lambdalab {ours:6.1f} ms"
        f"  (median of {FIRST_FRAME_RUNS})"
    )
    print(f"  lambdalab / empty app = {ours / empty:5.2f}  (goal <= 1.5)")
    print(f"lab at {in_flight:,} busy environments and {SPEED:g}x for {seconds:g} s:")
    print(f"  frames per second     = {fps:5.1f}  (goal >= 20)")
    print(f"  virtual time lag      = {lag:5.1f} %  (goal < 5 %)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="how long to watch the lab"
    )
    asyncio.run(main(parser.parse_args().seconds))
