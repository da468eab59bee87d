"""Generator-side legality: ttnn 0.81.1 validation rules and the L1 budget."""
