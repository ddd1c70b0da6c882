"""Small helpers every layer may use.

Rule: the standard library only; nothing here imports any other part of
ticker (or numpy, or a third-party package), so any package, the standalone
client included, can depend on it.
"""
