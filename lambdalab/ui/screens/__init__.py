"""Screens of the lambdalab app."""
