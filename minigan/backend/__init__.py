"""Which array library computes, and on which device (see ``devices``)."""
from minigan.backend.devices import (DEVICES, cuda_available, cuda_unavailable_reason, device_of,
                                     get_array_module, get_default_device, resolve_device,
                                     set_default_device, to_device, to_numpy, xp_for)

__all__ = ["DEVICES", "cuda_available", "cuda_unavailable_reason", "device_of",
           "get_array_module", "get_default_device", "resolve_device", "set_default_device",
           "to_device", "to_numpy", "xp_for"]
