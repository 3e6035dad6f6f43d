"""The ``hj212`` command: the composition root, the one place that wires every layer."""
