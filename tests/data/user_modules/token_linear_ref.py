"""The torch reference of token_linear.yaml: a user's own module in a file beside the description."""

import torch


class TokenLinear(torch.nn.Module):
    def __init__(self, vocab: int, hidden: int, out_features: int):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, hidden)
        self.proj = torch.nn.Linear(hidden, out_features)

    def forward(self, tokens):
        return self.proj(self.embed(tokens))
