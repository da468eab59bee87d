"""The policies users have today, on tttgen's IR: tt_transformers' hand-written heuristics and ttnn's
auto-config for program_config=None. Used as search seeds and as benchmark baselines."""
