"""Demo data: realistic, deterministic for a seed, fast enough for a million establishments."""
