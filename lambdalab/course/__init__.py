"""Lessons as data: the model, the loader, the lab session they drive, checks, progress."""
