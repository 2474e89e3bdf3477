"""Classroom and client access: ``lambdalab serve`` and the local Invoke API.

Nothing here imports Textual: the served app is a child process, and the Invoke API
is an aiohttp application the app starts on its own asyncio loop.
"""
