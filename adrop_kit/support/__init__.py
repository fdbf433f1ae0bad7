"""Helpers every layer may use that know nothing of events: public faces whose names are imported on
first use (`lazy`), the one HTML table (`html`), the one progress bar (`progress`), and how a count
or a dataset's source reads to a person (`labels`), what the allocators kept given back (`memory`), and
one item made ahead in a background thread (`ahead`, how reading overlaps checking).

Layer: the bottom, beside `adrop_kit.errors`; imports nothing of adrop_kit.
"""
