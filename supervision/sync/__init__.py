"""Offline bootstrap and delta sync for handheld terminals."""
