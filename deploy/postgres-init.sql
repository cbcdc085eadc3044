-- The DuckLake catalog lives next to Dagster's storage, in its own database.
CREATE DATABASE ticket_intel_lake OWNER ticket_intel;
