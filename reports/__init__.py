"""Reports: transmission rates and emissions as CSV, XLSX or HTML with inline SVG charts.

A layer of its own on top of storage: ``reports -> storage -> rules -> protocol``. The
figures come from :mod:`rules.rates` (the same hourly judgement as the engine) over the
data read by :mod:`storage.reports_queries`; this package shapes them into tables and
charts (:mod:`reports.model`) and renders them (:mod:`reports.render`).
"""
