"""Layers with parameters, in the shape of PyTorch's ``torch.nn``.

    module   Module (registration, state_dict, to(device)), Parameter, Sequential
    layers   Conv2d, Linear, MaxPool2d, ReLU, LeakyReLU, Tanh, Sigmoid, Flatten, Identity
    init     the seeded generator that initial weights come from (manual_seed)
"""
from minigan.nn.layers import (Conv2d, Flatten, Identity, LeakyReLU, Linear, MaxPool2d, ReLU,
                               Sigmoid, Tanh)
from minigan.nn.module import Module, Parameter, Sequential

__all__ = ["Module", "Parameter", "Sequential", "Conv2d", "Linear", "MaxPool2d", "ReLU",
           "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Identity"]
