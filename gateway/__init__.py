"""The I/O shell: sockets in, protocol events to storage, acknowledgements out.

It holds no protocol logic (that is :mod:`protocol`) and no SQL (that is :mod:`storage`).
"""
