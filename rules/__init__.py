"""The rules engine, pure: station data and ``now`` in, alarms out.

No sockets, asyncio, anyio, serial ports, database or clock here (checked by
``tests/test_layering.py``); rules may import :mod:`protocol` only.
"""
