"""Simulated field devices (data loggers) built on :mod:`protocol` in the station role."""
