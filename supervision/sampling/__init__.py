"""Double-random inspections (双随机、一公开): plans, grade-weighted verifiable draws of targets,
random inspector pairs, tasks for the drawn pairs, and published results.

Modules: `plan` (the TOML plan, validated), `risk` (who is always drawn), `candidates` (what a
draw reads), `algorithm` (the pure, portable draw and pairing), `service` (running, verifying,
exporting a draw), `results` (progress and publication), `conflicts` (declared conflicts of
interest), `commands` (the `supervision draw` CLI). The algorithm is documented in
docs/draws.md so that anyone can re-implement it.
"""
