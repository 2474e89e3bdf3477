"""The one error root of lambdalab.

Every error a learner or author can cause is a ``LambdaLabError`` whose message names the
thing, the value, and what to do. Errors about invalid input also subclass ``ValueError``.
"""

from __future__ import annotations


class LambdaLabError(Exception):
    """An error whose message a learner can act on."""

    def __init__(self, message: str, *, title: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.title = title or type(self).__name__

    def __str__(self) -> str:
        return self.message


class ConfigError(LambdaLabError, ValueError):
    """A function, account or event-invoke setting is outside what Lambda accepts."""


class HandlerError(LambdaLabError, ValueError):
    """A handler string or handler file cannot be used."""


class ScheduleSyntaxError(LambdaLabError, ValueError):
    """A cron() or rate() expression that EventBridge would refuse."""


class ProxyResponseError(LambdaLabError, ValueError):
    """A proxy-integration input that cannot be mapped."""


class ScenarioError(LambdaLabError, ValueError):
    """A scenario file with a missing or invalid key."""


class LessonFormatError(LambdaLabError, ValueError):
    """A lesson or course manifest that cannot be loaded."""


class ProgressError(LambdaLabError):
    """A progress file that cannot be read or written."""
