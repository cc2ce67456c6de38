"""Small models and data for the nn.Module API's tests."""

from __future__ import annotations

import torch
from torch import nn


def mlp(seed: int = 0, dtype: torch.dtype = torch.float64, sizes=(12, 8, 5)) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.Sigmoid(), nn.Linear(sizes[1], sizes[2])).to(dtype)


class Net(nn.Module):
    """Conv, batch norm, embedding-free CNN with named layers (``conv1``, ``bn``, ``conv2``, ``fc1``, ``fc2``)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.fc1 = nn.Linear(6 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def net(seed: int = 0, dtype: torch.dtype = torch.float64) -> Net:
    torch.manual_seed(seed)
    return Net().to(dtype)


def batches(count: int = 4, size: int = 8, shape=(12,), classes: int = 5, seed: int = 1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(size, *shape, generator=g, dtype=dtype), torch.randint(0, classes, (size,), generator=g))
            for _ in range(count)]


def image_batches(count: int = 3, dtype=torch.float64):
    return batches(count, 8, (1, 8, 8), 3, dtype=dtype)


def params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}
