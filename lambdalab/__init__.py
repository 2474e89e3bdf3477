"""lambdalab: learn AWS Lambda by watching a faithful mini-runtime work."""

__version__ = "0.1.0"
