"""Operating the platform's own machine: installing PostgreSQL and TimescaleDB, the embedded
cluster, the database roles (docs/architecture.md §1)."""
