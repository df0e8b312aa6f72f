"""Layers with parameters, in the shape of PyTorch's ``torch.nn``.

    module       Module (registration, buffers, state_dict, to(device), apply), Parameter
    containers   Sequential, ModuleList
    layers       Conv2d, Linear, MaxPool2d, BatchNorm2d, Dropout, ReLU, LeakyReLU, Tanh,
                 Sigmoid, Flatten, Identity
    loss_layers  MSELoss, L1Loss, CrossEntropyLoss, BCEWithLogitsLoss
    utils        clip_grad_norm_, clip_grad_value_
"""
from minigan.autograd.torch_names import missing_attribute
from minigan.nn import utils
from minigan.nn.containers import ModuleList, Sequential
from minigan.nn.layers import (BatchNorm2d, Conv2d, Dropout, Flatten, Identity, LeakyReLU, Linear,
                               MaxPool2d, ReLU, Sigmoid, Tanh)
from minigan.nn.loss_layers import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss
from minigan.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Conv2d", "Linear", "MaxPool2d",
           "BatchNorm2d", "Dropout", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten",
           "Identity", "MSELoss", "L1Loss", "CrossEntropyLoss", "BCEWithLogitsLoss", "utils"]


def __getattr__(name):
    raise missing_attribute("minigan.nn", "module 'minigan.nn'", name, __all__)
