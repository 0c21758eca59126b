"""Other departments that check establishments' credit (信用审查, seed 001 §三(四)): their API
keys, the check itself and its append-only log."""
