"""What to say when a PyTorch name is missing: ``t.expand``, ``model.half()``, ``nn.Conv1d``.

``Tensor``, ``Module``, the optimizers and the packages ``minigan.nn``, ``minigan.optim``,
``minigan.functional`` look their missing attributes up here (their ``__getattr__``), so the
error says that minigan does not have the name and what it offers instead; a near miss of a
name that exists gets "did you mean".
"""
import difflib

_NUMPY = "do it on the values: t.detach().numpy() (no gradient flows there)"

ADVICE = {
    "Tensor": {
        "expand": "t.broadcast_to(shape) (a copy that joins the graph)",
        "expand_as": "t.broadcast_to(other.shape)",
        "view_as": "t.view(other.shape)",
        "reshape_as": "t.reshape(other.shape)",
        "repeat": "minigan.F.cat([t] * n, dim)",
        "tile": "minigan.F.cat([t] * n, dim)",
        "chunk": "slices: t[:, a:b]",
        "split": "slices: t[:, a:b]",
        "index_select": "indexing: t[index] or t[:, index]",
        "gather": "advanced indexing: t[rows, columns]",
        "masked_select": "a boolean mask: t[mask]",
        "masked_fill": "t[mask] = value (in place) or t * (~mask) + value * mask",
        "where": "a mask: t * mask + other * (1 - mask)",
        "square": "t * t",
        "norm": "(t * t).sum().sqrt()",
        "sign": "(t > 0).float() - (t < 0).float()",
        "maximum": "t.clamp(min=...) against a number; there is no elementwise max of two tensors",
        "minimum": "t.clamp(max=...) against a number; there is no elementwise min of two tensors",
        "softmax": "minigan.F.softmax(t, dim)",
        "log_softmax": "minigan.F.log_softmax(t, dim)",
        "type": "t.to(numpy_dtype), t.float(), t.double() or t.long()",
        "half": "float16 is not supported: t.float() or t.double()",
        "int": "t.to(numpy.int32) or t.long()",
        "bool": "t != 0, or t.to(bool)",
        "is_cuda": "t.device == 'cuda'",
        "detach_": "t = t.detach()",
        "retain_grad": "only leaves get .grad: make one with y = y.detach().requires_grad_()",
        "register_hook": "minigan has no hooks; compute what you need after backward()",
        "zero_grad": "a Tensor has none (neither in PyTorch): t.grad = None, or t.grad.zero_()",
        "new_zeros": "Tensor(numpy.zeros(shape, t.dtype), device=t.device)",
        "new_ones": "Tensor(numpy.ones(shape, t.dtype), device=t.device)",
        "new_tensor": "Tensor(data, dtype=t.dtype, device=t.device)",
        "new_full": "Tensor(numpy.full(shape, value, t.dtype), device=t.device)",
        "any": "(t != 0).sum().item() > 0",
        "all": "(t == 0).sum().item() == 0",
        "cumsum": _NUMPY, "sort": _NUMPY, "argsort": _NUMPY, "topk": _NUMPY,
        "unique": _NUMPY, "floor": _NUMPY, "ceil": _NUMPY, "round": _NUMPY,
        "sin": _NUMPY, "cos": _NUMPY, "log1p": _NUMPY, "expm1": _NUMPY,
    },
    "Module": {
        "half": "float16 is not supported: model.float() or model.double()",
        "bfloat16": "bfloat16 is not supported: model.float() or model.double()",
        "type": "model.float() or model.double()",
        "add_module": "setattr(self, name, module) (or self.name = module)",
        "register_module": "setattr(self, name, module) (or self.name = module)",
        "register_parameter": "self.name = nn.Parameter(array)",
        "get_submodule": "the attribute path: model.blocks[0].conv",
        "get_parameter": "dict(model.named_parameters())[name]",
        "get_buffer": "dict(model.named_buffers())[name]",
        "register_forward_hook": "minigan modules have no hooks; call the code in forward()",
        "register_forward_pre_hook": "minigan modules have no hooks; call the code in forward()",
        "register_full_backward_hook": "minigan modules have no hooks; read p.grad after "
                                       "backward()",
        "register_backward_hook": "minigan modules have no hooks; read p.grad after backward()",
        "share_memory": "minigan has no multiprocessing support",
        "to_empty": "build the module, then model.to(device)",
        "compile": "minigan runs its ops as they come; there is nothing to compile",
    },
    "Optimizer": {
        "lr": "the learning rate lives in each parameter group: opt.param_groups[0]['lr']",
        "register_step_pre_hook": "minigan optimizers have no hooks",
        "register_step_post_hook": "minigan optimizers have no hooks",
    },
    "minigan.nn": {
        "Conv1d": "only nn.Conv2d (square kernels)", "Conv3d": "only nn.Conv2d (square kernels)",
        "ConvTranspose2d": "only nn.Conv2d", "AvgPool2d": "nn.MaxPool2d, or x.mean(dim=(2, 3))",
        "AdaptiveAvgPool2d": "x.mean(dim=(2, 3), keepdim=True) for output size 1",
        "BatchNorm1d": "nn.BatchNorm2d on x.view(n, c, 1, 1)",
        "LayerNorm": "nn.BatchNorm2d, or normalize by hand with x.mean(dim) and x.var(dim)",
        "GroupNorm": "nn.BatchNorm2d", "InstanceNorm2d": "nn.BatchNorm2d",
        "GELU": "nn.ReLU, nn.LeakyReLU, nn.Tanh or nn.Sigmoid",
        "SiLU": "nn.ReLU, nn.LeakyReLU, nn.Tanh or nn.Sigmoid",
        "ELU": "nn.ReLU, nn.LeakyReLU, nn.Tanh or nn.Sigmoid",
        "Softplus": "nn.ReLU, nn.LeakyReLU, nn.Tanh or nn.Sigmoid",
        "Softmax": "minigan.F.softmax(x, dim) in forward()",
        "LogSoftmax": "minigan.F.log_softmax(x, dim) in forward()",
        "Dropout2d": "nn.Dropout", "Embedding": "nn.Linear on one-hot rows",
        "functional": "minigan.functional (import minigan.functional as F)",
        "init": "the values in place under no_grad(): layer.weight.copy_(Tensor(array)); "
                "initial weights are PyTorch's defaults, seeded by minigan.manual_seed",
        "Unflatten": "x.view(shape) in forward()",
        "BCELoss": "nn.BCEWithLogitsLoss on logits (stable)",
        "NLLLoss": "nn.CrossEntropyLoss on logits",
        "SmoothL1Loss": "nn.L1Loss or nn.MSELoss", "HuberLoss": "nn.L1Loss or nn.MSELoss",
        "ModuleDict": "nn.ModuleList, or attributes", "ParameterList": "attributes holding "
                                                                    "nn.Parameter",
        "ParameterDict": "attributes holding nn.Parameter",
    },
    "minigan.functional": {
        "conv1d": "only F.conv2d", "conv3d": "only F.conv2d", "conv_transpose2d": "only F.conv2d",
        "avg_pool2d": "F.max_pool2d, or x.mean(dim=(2, 3))",
        "adaptive_avg_pool2d": "x.mean(dim=(2, 3), keepdim=True) for output size 1",
        "interpolate": "minigan has no resampling op",
        "nll_loss": "F.cross_entropy on logits", "binary_cross_entropy":
            "F.binary_cross_entropy_with_logits on logits (stable)",
        "smooth_l1_loss": "F.l1_loss or F.mse_loss", "huber_loss": "F.l1_loss or F.mse_loss",
        "gelu": "F.relu, F.leaky_relu, F.tanh or F.sigmoid",
        "silu": "F.relu, F.leaky_relu, F.tanh or F.sigmoid",
        "elu": "F.relu, F.leaky_relu, F.tanh or F.sigmoid",
        "softplus": "F.relu, F.leaky_relu, F.tanh or F.sigmoid",
        "one_hot": "Tensor(numpy.eye(classes)[labels])",
        "layer_norm": "F.batch_norm, or by hand with x.mean(dim) and x.var(dim)",
        "normalize": "x / (x * x).sum(dim, keepdim=True).sqrt()",
        "embedding": "indexing: weight[indices]",
    },
    "minigan.optim": {
        "RMSprop": "optim.SGD, optim.Adam or optim.AdamW", "Adagrad": "optim.SGD, optim.Adam "
                                                                      "or optim.AdamW",
        "Adadelta": "optim.SGD, optim.Adam or optim.AdamW",
        "Adamax": "optim.Adam", "NAdam": "optim.Adam", "RAdam": "optim.Adam",
        "LBFGS": "optim.SGD, optim.Adam or optim.AdamW",
    },
    "minigan.optim.lr_scheduler": {
        name: "lr_scheduler.StepLR or lr_scheduler.CosineAnnealingLR, or set "
              "group['lr'] in opt.param_groups yourself"
        for name in ("ExponentialLR", "MultiStepLR", "OneCycleLR", "ReduceLROnPlateau",
                     "LambdaLR", "LinearLR", "CosineAnnealingWarmRestarts", "CyclicLR",
                     "ConstantLR", "SequentialLR", "ChainedScheduler", "MultiplicativeLR",
                     "PolynomialLR")},
}


def missing_attribute(kind, shown, name, real_names):
    """An AttributeError for ``shown.name`` (``kind``: a key of ``ADVICE``) that says what
    minigan offers instead; ``real_names``: the attributes ``shown`` does have."""
    if name.startswith("_"):
        return AttributeError(f"{shown} has no attribute {name!r}")
    advice = ADVICE[kind].get(name)
    if advice is None and kind == "Tensor" and name.endswith("_") and name[:-1] in real_names:
        advice = f"the out-of-place t = t.{name[:-1]}(...)"
    if advice is not None:
        return AttributeError(f"{shown} has no attribute {name!r}: minigan does not have "
                              f"PyTorch's {name}; use {advice}")
    public = [n for n in real_names if not n.startswith("_")]
    close = difflib.get_close_matches(name, public, n=3, cutoff=0.75)
    if close:
        return AttributeError(f"{shown} has no attribute {name!r}: minigan does not have it; "
                              "did you mean " + " or ".join(map(repr, close)) + "?")
    return AttributeError(f"{shown} has no attribute {name!r}: minigan does not have it "
                          f"(it keeps a small part of PyTorch's {kind}; dir() lists what it has)")
