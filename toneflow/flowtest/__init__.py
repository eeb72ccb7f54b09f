"""Offline flow tests: scripted calls through the real app (``toneflow test``)."""
