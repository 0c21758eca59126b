"""Establishment accounts for the self-service portal: issue, sign in, lock, reset, sessions."""
