"""The synthetic market feed: ``type = "synthetic"``.

:mod:`~feeds.synthetic.options` (what config validates, pure),
:mod:`~feeds.synthetic.market` (the seeded numpy model, pure),
:mod:`~feeds.synthetic.feed` (emits the market in real time).
"""
