"""Storage: the one layer that speaks SQL (PostgreSQL + TimescaleDB through psycopg 3)."""
