"""The course map: the list, the description beside it and the continue line."""

from __future__ import annotations

from players import AppFactory

from lambdalab.ui.screens.course_map import CourseMapScreen, CourseMapView
from lambdalab.ui.screens.lesson import LessonScreen


def view_of(screen: object) -> CourseMapView:
    assert isinstance(screen, CourseMapScreen)
    return screen.view


def screen_text(app: object) -> str:
    """What the terminal shows, line by line."""
    from textual.app import App

    assert isinstance(app, App)
    update = app.screen._compositor.render_update(full=True)
    return "\n".join(
        "".join(strip.text for strip in line)
        for line in update.strips  # type: ignore[union-attr]
    )


async def test_back_from_a_lesson_the_highlight_follows_the_continue_line(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")  # lesson 1
        assert isinstance(app.screen, LessonScreen)
        # the learner moved on to lesson 2 (as escape from a recap does), then left it
        app.progress.current = "sync-vs-async"
        await pilot.press("escape")
        await pilot.pause()
        view = view_of(app.screen)
        assert "Continue:[/b] Synchronous versus asynchronous" in view.continue_markup
        assert view.highlighted == 1
        await pilot.press("enter")
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "sync-vs-async"


async def test_keys_move_the_highlight_and_the_description_follows(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    lessons = app.course.lessons
    async with app.run_test(size=(120, 40)) as pilot:
        view = view_of(app.screen)
        assert view.highlighted == 0
        assert lessons[0].title in view.description_markup

        await pilot.press("down", "down")
        assert view.highlighted == 2
        assert lessons[2].title in view.description_markup
        assert lessons[2].summary in view.description_markup

        await pilot.press("end")
        assert view.highlighted == len(lessons) - 1
        await pilot.press("down")  # the last stays the last
        assert view.highlighted == len(lessons) - 1
        await pilot.press("home", "up")
        assert view.highlighted == 0

        await pilot.press("pagedown")
        assert view.highlighted == len(lessons) - 1  # 40 lines: one page holds them
        await pilot.press("enter")
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == lessons[-1].id


async def test_the_list_scrolls_to_keep_the_highlight_on_a_short_terminal(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    lessons = app.course.lessons
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert f"{len(lessons)}. {lessons[-1].title}" in text
        await pilot.press("home")
        await pilot.pause()
        assert f"1. {lessons[0].title}" in screen_text(app)


async def test_a_long_description_says_there_is_more_and_scrolls(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        view = view_of(app.screen)
        # a description longer than the pane, as a course author may write
        view.set_description("\n".join(f"line {n}" for n in range(1, 41)))
        await pilot.pause()
        text = screen_text(app)
        assert "line 1" in text
        assert "more lines: shift+↓" in text
        assert "line 40" not in text

        await pilot.press("shift+down")
        await pilot.pause()
        rows = [row.rstrip() for row in screen_text(app).split("\n")]
        assert not any(row.endswith("line 1") for row in rows)  # scrolled by one
        assert any(row.endswith("line 2") for row in rows)
        view.action_scroll_description(40)  # as 40 more presses would
        await pilot.pause()
        text = screen_text(app)
        assert "line 40" in text
        assert "more lines" not in text
        await pilot.press("shift+up")
        assert view.highlighted == 0  # the list did not move


async def test_a_click_on_a_lesson_opens_it(app_factory: AppFactory) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        view = view_of(app.screen)
        # the continue line, a blank line, then lesson 1: lesson 3 is 4 lines down
        continued = view.continue_markup.count("\n") + 1
        await pilot.click(CourseMapView, offset=(6, 1 + continued + 1 + 2))
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == app.course.lessons[2].id


async def test_help_opens_with_the_courses_welcome(app_factory: AppFactory) -> None:
    from lambdalab.ui.screens.dialogs import PageScreen

    app = app_factory()
    assert app.course.welcome.startswith("# Welcome to lambdalab")  # lessons/welcome.md
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, PageScreen)
        assert app.screen.markdown.startswith(app.course.welcome)
        assert "# lambdalab help" in app.screen.markdown


async def test_keys_typed_in_one_burst_act_in_order(app_factory: AppFactory) -> None:
    # Tester (tmux send-keys "Home Enter"): enter ran before the keys queued ahead of
    # it, opening the old highlight, and those keys then acted in the lesson.
    from players import _key_event, settle

    app = app_factory()
    lessons = app.course.lessons
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down", "down")
        for key in ("home", "down", "enter"):  # queued before any is handled
            app.post_message(_key_event(key))
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == lessons[1].id
