"""The torch reference of repeat_mlp.yaml: one MLP block applied `times` times, its output fed back."""

import torch


class Block(torch.nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(width, hidden)
        self.fc2 = torch.nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class RepeatMLP(torch.nn.Module):
    def __init__(self, width: int, hidden: int, times: int):
        super().__init__()
        self.block = Block(width, hidden)
        self.times = times

    def forward(self, x):
        for _ in range(self.times):
            x = self.block(x)
        return x
