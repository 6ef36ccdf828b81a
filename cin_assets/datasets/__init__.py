"""The data set description format and the 28 descriptions: what each published file holds (no Dagster).

Measures, disclosure control and publishing all read these; this package imports only ``census`` and the
reference data, so imports flow one way: ``defs/`` -> domain packages -> ``datasets`` -> ``census``.
"""
