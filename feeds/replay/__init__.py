"""Replay of recorded tick files (``type = "replay"``)."""
