"""Layers with parameters, in the shape of PyTorch's ``torch.nn``.

    module      Module (registration, buffers, state_dict, to(device)), Parameter
    containers  Sequential, ModuleList
    layers      Conv2d, Linear, MaxPool2d, BatchNorm2d, ReLU, LeakyReLU, Tanh, Sigmoid, Flatten,
                Identity
    init        the seeded generator that initial weights come from (manual_seed)
"""
from minigan.nn.containers import ModuleList, Sequential
from minigan.nn.layers import (BatchNorm2d, Conv2d, Flatten, Identity, LeakyReLU, Linear,
                               MaxPool2d, ReLU, Sigmoid, Tanh)
from minigan.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Conv2d", "Linear", "MaxPool2d",
           "BatchNorm2d", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Identity"]
