"""Storage on Piccolo: SQLite embedded by default, PostgreSQL in production."""
