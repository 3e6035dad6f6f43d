"""Versioned SQL migrations, applied in order by :mod:`storage.migrate`."""
