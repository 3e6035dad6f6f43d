"""Long-running loops and workflows that combine storage and rules (docs/architecture.md §1)."""
