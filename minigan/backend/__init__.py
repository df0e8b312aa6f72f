"""Devices (cpu, cuda, emulator): which array module computes, moving arrays, the default."""
from minigan.backend.devices import (CHOICES, DEVICES, ENVIRONMENT_VARIABLE, cuda_available,
                                     cuda_unavailable_reason, device_of, get_array_module,
                                     get_default_device, kernel_device, resolve_device,
                                     scatter_add, set_default_device, to_device, to_numpy,
                                     unavailable_reason, xp_for)

__all__ = ["CHOICES", "DEVICES", "ENVIRONMENT_VARIABLE", "cuda_available",
           "cuda_unavailable_reason", "device_of", "get_array_module", "get_default_device",
           "kernel_device", "resolve_device", "scatter_add", "set_default_device", "to_device",
           "to_numpy", "unavailable_reason", "xp_for"]
