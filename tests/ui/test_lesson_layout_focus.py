"""Keys typed straight after enter opens the Schedules expression input all reach
it (tester: about 1 run in 4 lost keys when they came without pauses; r among
them reset the lab)."""

from __future__ import annotations

from players import AppFactory, _key_event, open_tab, settle, tap
from textual.pilot import Pilot

from lambdalab.ui.panels.schedules import ExpressionInput, SchedulePanel
from lambdalab.ui.screens.lesson import LessonScreen

RUNS = 12


async def burst(pilot: Pilot[None], *keys: str) -> None:
    """Keys as a terminal hands over a fast run of them: all queued before any is
    handled, no frame drawn in between."""
    for key in keys:
        pilot.app.post_message(_key_event(key))
    await settle(pilot)


async def test_keys_typed_right_after_enter_all_reach_the_expression_input(
    app_factory: AppFactory,
) -> None:
    app = app_factory(open_lesson="cron-eventbridge")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await tap(pilot, "2")  # step 1's prediction unlocks the lab
        await open_tab(pilot, screen, SchedulePanel)
        panel = screen.query_one(SchedulePanel)
        field = panel.query_one(ExpressionInput)
        triggers = screen.session.triggers
        before = triggers.rule("daily-report").expression
        typed = " rate(5 minutes) or nearly"  # r resets the lab, a invokes, n...
        lost = []
        for run in range(RUNS):
            await burst(pilot, "enter", *typed)
            if field.value != before + typed or app.focused is not field:
                lost.append((run, field.value, app.focused))
            await burst(pilot, "escape", "d")  # d, typed after escape: the panel's
            if app.focused is not panel or panel.editing:
                lost.append((run, "escape", app.focused))
            await burst(pilot, "d")
        assert lost == []
        rule = triggers.rule("daily-report")
        assert rule.expression == before and rule.enabled
        assert screen.session.history == [] and screen.step_index == 0


async def test_enter_saves_and_the_next_key_typed_at_once_is_the_panels(
    app_factory: AppFactory,
) -> None:
    app = app_factory(open_lesson="cron-eventbridge")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await tap(pilot, "2")
        await open_tab(pilot, screen, SchedulePanel)
        panel = screen.query_one(SchedulePanel)
        triggers = screen.session.triggers
        for run in range(RUNS):
            # open, save it unchanged (PutRule), then d disables or enables it
            await burst(pilot, "enter", "enter", "d")
            assert app.focused is panel and not panel.editing, run
            assert triggers.rule("daily-report").enabled == (run % 2 == 1), run
        assert "PutRule" in [n.title for n in app._notifications]


async def test_a_number_typed_in_one_run_with_enter_is_the_prediction(
    app_factory: AppFactory,
) -> None:
    # the first digit opens the box; the rest and enter came before it had the focus
    app = app_factory(open_lesson="retries-dlq")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await burst(pilot, "1", "2", "enter", "a")
        assert screen.session.answers.get(screen.step.id) == 12
        assert len(screen.session.history) == 1  # a, after enter, invoked
