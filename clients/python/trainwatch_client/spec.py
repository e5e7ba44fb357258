"""The schedule spec of a live learning-rate scheduler, in the format trainwatch's schedule engine reads
(README "Schedule spec"): ``{"scheduler": <class or HF type name>, "params": {<its arguments>, "base_lrs": [...]}}``.

Everything here reads attributes of objects the trainer already built; nothing imports torch at module level, so
``import trainwatch_client`` works without it.
"""

import functools
import math
import numbers

__all__ = ["UnsupportedScheduler", "spec_from_scheduler", "hf_spec", "named_lambda", "HF_SCHEDULER_TYPES"]


class UnsupportedScheduler(ValueError):
    """The scheduler (or one of its arguments) cannot be declared in a trainwatch schedule spec."""


_ESCAPE = ("declare the schedule yourself instead: Reporter.run_start(..., schedule={\"scheduler\": ..., \"params\": ...})"
           " (README \"Schedule spec\")")

# the torch classes the engine reproduces (torch.optim.lr_scheduler), by name
_TORCH_CLASSES = ("StepLR", "MultiStepLR", "ExponentialLR", "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingLR",
                  "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "LambdaLR", "SequentialLR", "ChainedScheduler",
                  "ReduceLROnPlateau")
# ChainedScheduler works only with schedulers whose chainable form is multiplicative (SchedulerCatalog)
_CHAINABLE = ("StepLR", "MultiStepLR", "ExponentialLR", "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingLR")


# ------------------------------------------------------------------------------------------------------------------
# numbers as the spec wants them
# ------------------------------------------------------------------------------------------------------------------

def _float(x, what):
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        try:
            x = float(x)  # 0-d tensors, numpy scalars
        except (TypeError, ValueError):
            raise UnsupportedScheduler("%s must be a number, got %r" % (what, x)) from None
    x = float(x)
    if not math.isfinite(x):
        raise UnsupportedScheduler("%s must be finite, got %r" % (what, x))
    return x


def _int(x, what):
    """An integer argument (the engine refuses 30.0 where torch counts with 30)."""
    if isinstance(x, bool):
        raise UnsupportedScheduler("%s must be an integer, got %r" % (what, x))
    if isinstance(x, numbers.Integral):
        return int(x)
    f = _float(x, what)
    if f != int(f):
        raise UnsupportedScheduler("%s must be a whole number for trainwatch, got %r" % (what, x))
    return int(f)


def _number(x, what):
    """An int stays an int (so JSON keeps it integral), anything else becomes a float."""
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    return _float(x, what)


def _floats(xs, what):
    return [_float(x, "%s[%d]" % (what, i)) for i, x in enumerate(xs)]


# ------------------------------------------------------------------------------------------------------------------
# spec_from_scheduler
# ------------------------------------------------------------------------------------------------------------------

def spec_from_scheduler(scheduler):
    """The schedule spec of a live torch scheduler object, read from its attributes.

    Supported: every class of ``torch.optim.lr_scheduler`` the engine reproduces (StepLR, MultiStepLR, ExponentialLR,
    ConstantLR, LinearLR, PolynomialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR with a built-in mode,
    OneCycleLR, SequentialLR, ChainedScheduler, ReduceLROnPlateau as an adaptive range), and LambdaLR when its lambda
    is one the engine knows: Hugging Face's ``get_*_schedule_with_warmup`` lambdas (functools.partial of
    ``_get_cosine_schedule_with_warmup_lr_lambda`` etc., or the closures of older transformers) and the lambdas made
    by :func:`named_lambda`. Anything else raises :class:`UnsupportedScheduler` saying why.

    Resume: the spec describes the schedule *from now on*. torch's ``last_epoch`` is the index of the LR now in the
    optimizer, so ``params.last_epoch = scheduler.last_epoch - 1`` (the spec's "built with this index, the first step
    uses last_epoch + 1"): a fresh scheduler gives -1, one built with ``last_epoch=L`` gives L, one stepped k times gives
    k - 1. Step 0 of the spec is the next optimizer step. (The Reporter shifts it to your step numbering.)

    A scheduler built with ``last_epoch=L >= 0`` by a torch whose constructor keeps the optimizer's LR (torch 2.x, for
    ExponentialLR, LinearLR, PolynomialLR, CosineAnnealingLR) also gets ``params.kept_lr_at_last_epoch = L``: from there
    on its LRs are not the uninterrupted schedule's (README "Schedule spec").
    """
    scheduler = _unwrap(scheduler)
    name = _torch_class(scheduler)
    if name == "ReduceLROnPlateau":
        return _plateau(scheduler)
    params = _params(scheduler, name)
    if name == "ChainedScheduler":
        epochs = {int(s.last_epoch) for s in scheduler._schedulers}
        if len(epochs) != 1:
            raise UnsupportedScheduler("ChainedScheduler children have different last_epoch values %s: they were not built and "
                                       "stepped together, which a spec cannot describe; %s" % (sorted(epochs), _ESCAPE))
        last_epoch = epochs.pop()
    else:
        last_epoch = int(scheduler.last_epoch)
    if name not in ("CyclicLR", "OneCycleLR"):
        params["base_lrs"] = _base_lrs(scheduler, name)
    params["last_epoch"] = last_epoch - 1
    built = _built_with_last_epoch(scheduler, name)
    if built is not None and built >= 0 and _constructor_keeps_lr(name):
        params["kept_lr_at_last_epoch"] = built
    return {"scheduler": name, "params": params}


# the classes whose chainable get_lr kept the optimizer's LR on a resume construction in some torch versions
# (pytorch/pytorch#149312, torch 2.x: `if self._is_initial: return group lrs`); every other class computes the same
_KEEPS_LR_CANDIDATES = ("ExponentialLR", "LinearLR", "PolynomialLR", "CosineAnnealingLR")


def _built_with_last_epoch(s, name):
    """The last_epoch the scheduler was constructed with: its constructor's step and every step() since each counted
    once in _step_count and last_epoch (a state_dict carries both)."""
    steps = getattr(s, "_step_count", None)
    if name not in _KEEPS_LR_CANDIDATES or not isinstance(steps, int):
        return None
    return int(s.last_epoch) - steps


_KEEPS_LR = {}


def _constructor_keeps_lr(name):
    """Whether this torch's `name`, built with last_epoch=1 on a group at lr 1.0, leaves the lr at 1.0 (torch 2.x)
    instead of moving it to its index-2 value (torch 1.13). Asked of torch itself, once per class, rather than inferred
    from torch.__version__: the fix reached the classes one at a time."""
    if name not in _KEEPS_LR:
        import warnings
        import torch
        from torch.optim import lr_scheduler as torch_schedulers
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([{"params": [p], "lr": 1.0, "initial_lr": 1.0}], lr=1.0)
        args = {"ExponentialLR": {"gamma": 0.5}, "LinearLR": {"start_factor": 0.5, "total_iters": 4},
                "PolynomialLR": {"total_iters": 4}, "CosineAnnealingLR": {"T_max": 4}}[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(torch_schedulers, name)(opt, last_epoch=1, **args)
        _KEEPS_LR[name] = float(opt.param_groups[0]["lr"]) == 1.0
    return _KEEPS_LR[name]


# wrappers that keep the scheduler they step in .scheduler: accelerate's AcceleratedScheduler (HF Trainer, Lightning
# Fabric) and DeepSpeedSchedulerWrapper (accelerate.utils.deepspeed; the HF Trainer under DeepSpeed)
_SCHEDULER_WRAPPERS = ("AcceleratedScheduler", "DeepSpeedSchedulerWrapper")


def _unwrap(s):
    for _ in range(4):  # a wrapper of a wrapper, never a cycle
        inner = getattr(s, "scheduler", None)
        if inner is None or inner is s or type(s).__name__ not in _SCHEDULER_WRAPPERS:
            break
        s = inner
    return s


def _torch_class(s):
    try:
        from torch.optim import lr_scheduler as torch_schedulers
    except ImportError:  # pragma: no cover - a torch scheduler without torch
        raise UnsupportedScheduler("spec_from_scheduler needs torch") from None
    name = type(s).__name__
    if name in _TORCH_CLASSES and type(s) is getattr(torch_schedulers, name, None):
        return name
    if name == "GreedyLR" and type(s).__module__.startswith("transformers."):
        raise UnsupportedScheduler(_GREEDY)
    for base in type(s).__mro__[1:]:
        if base.__name__ in _TORCH_CLASSES and base is getattr(torch_schedulers, base.__name__, None):
            raise UnsupportedScheduler("%s is a subclass of torch's %s and may compute its LR differently; %s"
                                       % (type(s).__qualname__, base.__name__, _ESCAPE))
    raise UnsupportedScheduler("%s.%s is not a scheduler trainwatch can reproduce (it knows torch's %s); %s"
                               % (type(s).__module__, name, ", ".join(_TORCH_CLASSES), _ESCAPE))


def _base_lrs(s, name):
    if name in ("SequentialLR", "ChainedScheduler"):
        # neither calls _LRScheduler.__init__, so neither has base_lrs: the groups' initial_lr is what the children use
        return _floats([g.get("initial_lr", g["lr"]) for g in s.optimizer.param_groups], "initial_lr")
    return _floats(s.base_lrs, "base_lrs")


def _params(s, name):
    """The constructor arguments of one scheduler (without base_lrs and last_epoch, which only the outer one has)."""
    if name == "StepLR":
        return {"step_size": _int(s.step_size, "StepLR.step_size"), "gamma": _float(s.gamma, "StepLR.gamma")}
    if name == "MultiStepLR":
        # torch keeps a Counter: a repeated milestone decays twice, so it is listed twice
        return {"milestones": sorted(_int(m, "MultiStepLR.milestones") for m in s.milestones.elements()),
                "gamma": _float(s.gamma, "MultiStepLR.gamma")}
    if name == "ExponentialLR":
        return {"gamma": _float(s.gamma, "ExponentialLR.gamma")}
    if name == "ConstantLR":
        return {"factor": _float(s.factor, "ConstantLR.factor"), "total_iters": _int(s.total_iters, "ConstantLR.total_iters")}
    if name == "LinearLR":
        return {"start_factor": _float(s.start_factor, "LinearLR.start_factor"),
                "end_factor": _float(s.end_factor, "LinearLR.end_factor"),
                "total_iters": _int(s.total_iters, "LinearLR.total_iters")}
    if name == "PolynomialLR":
        return {"total_iters": _int(s.total_iters, "PolynomialLR.total_iters"), "power": _float(s.power, "PolynomialLR.power")}
    if name == "CosineAnnealingLR":
        return {"T_max": _number(s.T_max, "CosineAnnealingLR.T_max"), "eta_min": _float(s.eta_min, "CosineAnnealingLR.eta_min")}
    if name == "CosineAnnealingWarmRestarts":
        return _warm_restarts(s)
    if name == "CyclicLR":
        return _cyclic(s)
    if name == "OneCycleLR":
        return _one_cycle(s)
    if name == "LambdaLR":
        return _lambda(s)
    if name == "SequentialLR":
        return {"schedulers": [_child(c, "SequentialLR") for c in s._schedulers],
                "milestones": [_int(m, "SequentialLR.milestones") for m in s._milestones]}
    if name == "ChainedScheduler":
        children = []
        for i, c in enumerate(s._schedulers):
            child = _child(c, "ChainedScheduler")
            if child["scheduler"] not in _CHAINABLE:
                raise UnsupportedScheduler("ChainedScheduler child %d is %s; trainwatch chains only %s; %s"
                                           % (i, child["scheduler"], ", ".join(_CHAINABLE), _ESCAPE))
            if child["scheduler"] == "CosineAnnealingLR" and (child["params"]["eta_min"] != 0
                                                              or float(child["params"]["T_max"]) != int(child["params"]["T_max"])):
                raise UnsupportedScheduler("ChainedScheduler child %d: CosineAnnealingLR in a chain needs eta_min 0 and an integer "
                                           "T_max (its chainable form is only multiplicative then); %s" % (i, _ESCAPE))
            children.append(child)
        return {"schedulers": children}
    raise AssertionError(name)  # pragma: no cover


def _child(c, parent):
    c = _unwrap(c)
    name = _torch_class(c)
    if name in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"):
        raise UnsupportedScheduler("%s inside %s cannot be declared (the engine does not nest them); %s" % (name, parent, _ESCAPE))
    return {"scheduler": name, "params": _params(c, name)}


def _warm_restarts(s):
    t0 = _int(s.T_0, "CosineAnnealingWarmRestarts.T_0")
    t_mult = _int(s.T_mult, "CosineAnnealingWarmRestarts.T_mult")
    # the docs suggest scheduler.step(epoch + i / iters) for per-iteration restarts: T_cur is then fractional and no
    # longer a function of last_epoch, which the spec (an integer index) cannot describe
    e = int(s.last_epoch)
    if e >= 0:
        if t_mult == 1:
            t_cur, t_i = e % t0, t0
        else:
            n = 0
            start = 0
            length = t0
            while e >= start + length:
                start += length
                length *= t_mult
                n += 1
            t_cur, t_i = e - start, length
        if abs(float(s.T_cur) - t_cur) > 1e-9 or int(s.T_i) != t_i:
            raise UnsupportedScheduler("CosineAnnealingWarmRestarts was stepped with fractional or explicit epochs "
                                       "(T_cur %r, T_i %r at last_epoch %d; integer steps give %d, %d): the spec counts whole "
                                       "scheduler steps; %s" % (s.T_cur, s.T_i, e, t_cur, t_i, _ESCAPE))
    return {"T_0": t0, "T_mult": t_mult, "eta_min": _float(s.eta_min, "CosineAnnealingWarmRestarts.eta_min")}


def _exact_ratio_split(total, ratio):
    """CyclicLR keeps only total_size = up + down and step_ratio = up / total_size: recover up and down, exactly when
    they were the round numbers people write."""
    up = total * ratio
    for candidate in (float(round(up)), float("%.12g" % up)):
        down = total - candidate
        if candidate > 0 and down >= 0 and candidate + down == total and candidate / total == ratio:
            return candidate, down
    return up, total - up


def _cyclic(s):
    custom = getattr(s, "_scale_fn_custom", None)
    if custom is not None:
        raise UnsupportedScheduler("CyclicLR with a custom scale_fn (%r) cannot be declared: use mode triangular, triangular2 "
                                   "or exp_range; %s" % (custom, _ESCAPE))
    if getattr(s, "_scale_fn_custom", "absent") == "absent":
        # torch before 1.13 kept the function itself in .scale_fn
        fn = getattr(s, "scale_fn", None)
        fname = getattr(getattr(fn, "__func__", fn), "__name__", "")
        if fname not in ("_triangular_scale_fn", "_triangular2_scale_fn", "_exp_range_scale_fn", "scale_fn"):
            raise UnsupportedScheduler("CyclicLR with a custom scale_fn (%r) cannot be declared; %s" % (fn, _ESCAPE))
    mode = s.mode
    if mode not in ("triangular", "triangular2", "exp_range"):
        raise UnsupportedScheduler("CyclicLR mode %r is not one of triangular, triangular2, exp_range" % (mode,))
    up, down = _exact_ratio_split(_float(s.total_size, "CyclicLR.total_size"), _float(s.step_ratio, "CyclicLR.step_ratio"))
    return {"base_lr": _floats(s.base_lrs, "CyclicLR.base_lrs"), "max_lr": _floats(s.max_lrs, "CyclicLR.max_lrs"),
            "step_size_up": _number_if_whole(up), "step_size_down": _number_if_whole(down), "mode": mode,
            "gamma": _float(s.gamma, "CyclicLR.gamma")}


def _number_if_whole(x):
    return int(x) if float(x).is_integer() else float(x)


def _recover(candidates, check):
    """The first candidate for which check(candidate) holds exactly, else the first one."""
    for c in candidates:
        try:
            if check(c):
                return c
        except ZeroDivisionError:
            continue
    return candidates[0]


def _one_cycle(s):
    total = _int(s.total_steps, "OneCycleLR.total_steps")
    phases = s._schedule_phases
    three_phase = len(phases) == 3
    end0 = float(phases[0]["end_step"])
    # torch: end_step = float(pct_start * total_steps) - 1; recover the pct_start that gives exactly that
    raw = (end0 + 1) / total
    pct = _recover([float("%.12g" % raw), raw], lambda p: float(p * total) - 1 == end0)
    groups = s.optimizer.param_groups
    max_lrs = _floats([g["max_lr"] for g in groups], "OneCycleLR max_lr")
    initial = [float(g["initial_lr"]) for g in groups]
    minimum = [float(g["min_lr"]) for g in groups]
    # torch: initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor (one factor for every group)
    raw_div = max_lrs[0] / initial[0] if initial[0] else float("nan")
    div = _recover([float("%.12g" % raw_div), raw_div], lambda d: all(m / d == i for m, i in zip(max_lrs, initial)))
    raw_final = initial[0] / minimum[0] if minimum[0] else float("nan")
    final = _recover([float("%.12g" % raw_final), raw_final], lambda f: all(i / f == m for i, m in zip(initial, minimum)))
    for g, (m, i, lo) in enumerate(zip(max_lrs, initial, minimum)):
        if not (math.isclose(m / div, i, rel_tol=1e-12) and math.isclose(i / final, lo, rel_tol=1e-12)):
            raise UnsupportedScheduler("OneCycleLR group %d: initial_lr %r and min_lr %r are not max_lr %r divided by one "
                                       "div_factor and final_div_factor (group keys edited?); %s" % (g, i, lo, m, _ESCAPE))
    # torch 1.13 keeps the bound method in .anneal_func; torch 2.x keeps ._anneal_func_type (and ._anneal_func)
    strategy = getattr(s, "_anneal_func_type", None)
    if strategy is None:
        fn = getattr(s, "anneal_func", None) or getattr(s, "_anneal_func", None)
        fname = getattr(getattr(fn, "__func__", fn), "__name__", "")
        strategy = {"_annealing_cos": "cos", "_annealing_linear": "linear"}.get(fname)
    if strategy not in ("cos", "linear"):
        raise UnsupportedScheduler("OneCycleLR anneal strategy not recognised (%r); %s" % (strategy, _ESCAPE))
    return {"max_lr": max_lrs, "total_steps": total, "pct_start": pct, "anneal_strategy": strategy,
            "div_factor": _number_if_whole(div), "final_div_factor": _number_if_whole(final), "three_phase": three_phase}


def _plateau(s):
    """ReduceLROnPlateau is adaptive: the engine checks the LR stays in the range it allows from the LRs it starts with."""
    groups = s.optimizer.param_groups
    return {"scheduler": "ReduceLROnPlateau", "params": {
        "mode": s.mode, "factor": _float(s.factor, "ReduceLROnPlateau.factor"), "patience": _int(s.patience, "ReduceLROnPlateau.patience"),
        "threshold": _float(s.threshold, "ReduceLROnPlateau.threshold"), "threshold_mode": s.threshold_mode,
        "cooldown": _int(s.cooldown, "ReduceLROnPlateau.cooldown"), "min_lr": _floats(s.min_lrs, "ReduceLROnPlateau.min_lrs"),
        "eps": _float(s.eps, "ReduceLROnPlateau.eps"),
        # the LRs now: a plateau scheduler only ever keeps or lowers them
        "base_lrs": _floats([g["lr"] for g in groups], "lr")}}


# ------------------------------------------------------------------------------------------------------------------
# LambdaLR: which lambdas are known
# ------------------------------------------------------------------------------------------------------------------

_W, _T = "num_warmup_steps", "num_training_steps"
# transformers' lambda functions (functools.partial targets in transformers >= 4.32) -> (engine name, allowed keywords)
_HF_PARTIALS = {
    "_get_constant_lambda": ("hf_constant", ()),
    "_get_constant_schedule_with_warmup_lr_lambda": ("hf_constant_with_warmup", (_W,)),
    "_get_linear_schedule_with_warmup_lr_lambda": ("hf_linear_with_warmup", (_W, _T)),
    "_get_cosine_schedule_with_warmup_lr_lambda": ("hf_cosine_with_warmup", (_W, _T, "num_cycles", "min_lr_rate")),
    "_get_cosine_with_min_lr_schedule_with_warmup_lr_lambda": ("hf_cosine_with_min_lr", (_W, _T, "num_cycles", "min_lr_rate")),
    # lr_scheduler_type "cosine_warmup_with_min_lr" (transformers >= 4.50): warmup from (s + 1) / W, cosine shifted by one
    "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda": ("hf_cosine_warmup_with_min_lr",
                                                                     (_W, _T, "num_cycles", "min_lr_rate", "warmup_lr_rate")),
    "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda": ("hf_cosine_with_hard_restarts_with_warmup", (_W, _T, "num_cycles")),
    "_get_polynomial_decay_schedule_with_warmup_lr_lambda": ("hf_polynomial_decay_with_warmup", (_W, _T, "lr_end", "power", "lr_init")),
    "_get_inverse_sqrt_schedule_lr_lambda": ("hf_inverse_sqrt", (_W, "timescale")),
    "_get_wsd_scheduler_lambda": ("hf_warmup_stable_decay", (_W, "num_stable_steps", "num_decay_steps", "warmup_type", "decay_type",
                                                             "min_lr_ratio", "num_cycles")),
}
# older transformers built closures inside the get_* factories: "<factory>.<locals>.lr_lambda"
_HF_FACTORIES = {
    "get_constant_schedule": "_get_constant_lambda",
    "get_constant_schedule_with_warmup": "_get_constant_schedule_with_warmup_lr_lambda",
    "get_linear_schedule_with_warmup": "_get_linear_schedule_with_warmup_lr_lambda",
    "get_cosine_schedule_with_warmup": "_get_cosine_schedule_with_warmup_lr_lambda",
    "get_cosine_with_hard_restarts_schedule_with_warmup": "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda",
    "get_polynomial_decay_schedule_with_warmup": "_get_polynomial_decay_schedule_with_warmup_lr_lambda",
    "get_inverse_sqrt_schedule": "_get_inverse_sqrt_schedule_lr_lambda",
}
_INT_KEYS = {_W, _T, "num_stable_steps", "num_decay_steps", "timescale"}
_STR_KEYS = {"warmup_type", "decay_type"}


def _lambda(s):
    lambdas = list(s.lr_lambdas)
    if all(l is lambdas[0] for l in lambdas):
        return {"lr_lambda": _named(lambdas[0])}
    return {"lr_lambda": [_named(l) for l in lambdas]}


def _named(fn):
    tag = getattr(fn, "trainwatch_lambda", None)
    if isinstance(tag, dict):
        return dict(tag)
    if isinstance(fn, functools.partial):
        target = getattr(fn.func, "__name__", "")
        if target in _HF_PARTIALS and not fn.args:
            return _hf_named(target, dict(fn.keywords))
        raise _unknown_lambda(fn)
    qual = getattr(fn, "__qualname__", "")
    if qual == "_get_constant_lambda":
        return {"name": "hf_constant"}
    # "<module path>.get_linear_schedule_with_warmup.<locals>.lr_lambda": the function that built the closure
    factory = qual.rsplit(".<locals>.", 1)[0].split(".")[-1] if ".<locals>." in qual else None
    if factory in _HF_FACTORIES and getattr(fn, "__closure__", None) is not None:
        cells = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__)))
        target = _HF_FACTORIES[factory]
        return _hf_named(target, {k: v for k, v in cells.items() if k in _HF_PARTIALS[target][1]})
    if factory == "get_constant_schedule":
        return {"name": "hf_constant"}
    raise _unknown_lambda(fn)


def _hf_named(target, kw):
    name, allowed = _HF_PARTIALS[target]
    unknown = sorted(set(kw) - set(allowed))
    if unknown:
        raise UnsupportedScheduler("LambdaLR lambda %s has arguments trainwatch does not know: %s; %s" % (target, unknown, _ESCAPE))
    if name == "hf_cosine_with_warmup" and kw.get("min_lr_rate", 0.0) not in (0, 0.0, None):
        name = "hf_cosine_with_min_lr"  # transformers reuses the cosine lambda with min_lr_rate for cosine_with_min_lr
    elif name == "hf_cosine_with_warmup":
        kw.pop("min_lr_rate", None)
    out = {"name": name}
    for k in allowed:
        if k in kw and kw[k] is not None:
            v = kw[k]
            if k in _STR_KEYS:
                out[k] = str(v)
            elif k in _INT_KEYS:
                out[k] = _int(v, "%s.%s" % (target, k))
            else:
                out[k] = _number(v, "%s.%s" % (target, k))
    return out


def _unknown_lambda(fn):
    return UnsupportedScheduler(
        "LambdaLR with lr_lambda %r cannot be declared: trainwatch knows Hugging Face's get_*_schedule_with_warmup lambdas "
        "and the YOLO lambdas of trainwatch_client.named_lambda(...); build your lambda with named_lambda, or %s" % (fn, _ESCAPE))


# the YOLO lambdas the engine knows, as Python callables carrying their own spec
def _yolov3_spp_warmup(warmup_iters, warmup_factor):
    def f(x):
        if x >= warmup_iters:
            return 1
        alpha = x / warmup_iters
        return warmup_factor * (1 - alpha) + alpha
    return f


def _yolov3_spp_cosine(epochs, lrf):
    return lambda x: ((1 + math.cos(x * math.pi / epochs)) / 2) * (1 - lrf) + lrf


def _yolov5_linear(epochs, lrf):
    return lambda x: (1 - x / epochs) * (1.0 - lrf) + lrf


def _yolov5_one_cycle(epochs, lrf):
    return lambda x: ((1 - math.cos(x * math.pi / epochs)) / 2) * (lrf - 1) + 1


_NAMED = {
    "yolov3_spp_warmup": (_yolov3_spp_warmup, ("warmup_iters", "warmup_factor")),
    "yolov3_spp_cosine": (_yolov3_spp_cosine, ("epochs", "lrf")),
    "yolov5_linear": (_yolov5_linear, ("epochs", "lrf")),
    "yolov5_one_cycle": (_yolov5_one_cycle, ("epochs", "lrf")),
}


def named_lambda(name, **args):
    """A LambdaLR lambda the engine knows by name, as a callable that also carries its spec, e.g.
    ``LambdaLR(optimizer, named_lambda("yolov5_one_cycle", epochs=300, lrf=0.01))``. Names: yolov3_spp_warmup
    (warmup_iters, warmup_factor), yolov3_spp_cosine, yolov5_linear, yolov5_one_cycle (epochs, lrf)."""
    if name not in _NAMED:
        raise UnsupportedScheduler("unknown lambda %r; known: %s" % (name, ", ".join(sorted(_NAMED))))
    make, keys = _NAMED[name]
    if sorted(args) != sorted(keys):
        raise TypeError("named_lambda(%r) takes exactly %s, got %s" % (name, ", ".join(keys), ", ".join(sorted(args)) or "nothing"))
    fn = make(**args)
    fn.trainwatch_lambda = dict({"name": name}, **{k: _number(v, "%s.%s" % (name, k)) for k, v in args.items()})
    fn.__qualname__ = fn.__name__ = name
    return fn


# ------------------------------------------------------------------------------------------------------------------
# Hugging Face lr_scheduler_type
# ------------------------------------------------------------------------------------------------------------------

# which of (num_warmup_steps, num_training_steps) transformers' get_scheduler passes to each type
HF_SCHEDULER_TYPES = {
    "linear": (_W, _T), "cosine": (_W, _T), "cosine_with_restarts": (_W, _T), "polynomial": (_W, _T),
    "constant": (), "constant_with_warmup": (_W,), "inverse_sqrt": (_W,), "cosine_with_min_lr": (_W, _T),
    "warmup_stable_decay": (_W, _T), "reduce_lr_on_plateau": (), "cosine_warmup_with_min_lr": (_W, _T),
}
# transformers 5.x GreedyLR: there is no schedule to declare
_GREEDY = ("lr_scheduler_type 'greedy' (transformers' GreedyLR) adapts the LR to the loss in both directions (divided by factor "
           "after patience improving steps, multiplied by it on a plateau, within [min_lr, max_lr]): there is no schedule to check")


def hf_spec(lr_scheduler_type, base_lrs, num_warmup_steps=0, num_training_steps=None, scheduler_kwargs=None, lr_init=None):
    """The spec of what transformers' ``get_scheduler(lr_scheduler_type, optimizer, num_warmup_steps, num_training_steps,
    scheduler_specific_kwargs)`` builds; ``lr_init`` is ``optimizer.defaults["lr"]`` (polynomial and cosine_with_min_lr
    divide by it; default: the first group's LR)."""
    t = getattr(lr_scheduler_type, "value", lr_scheduler_type)  # transformers' SchedulerType enum
    if t == "greedy":
        raise UnsupportedScheduler(_GREEDY)
    if t not in HF_SCHEDULER_TYPES:
        raise UnsupportedScheduler("Hugging Face lr_scheduler_type %r is not one trainwatch reproduces (%s); %s"
                                   % (t, ", ".join(HF_SCHEDULER_TYPES), _ESCAPE))
    kwargs = dict(scheduler_kwargs or {})
    base = _floats(base_lrs, "base_lrs")
    if t == "reduce_lr_on_plateau":
        params = {k: kwargs[k] for k in ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps")
                  if k in kwargs}
        params["base_lrs"] = base
        return {"scheduler": "ReduceLROnPlateau", "params": params}
    params = {}
    if _W in HF_SCHEDULER_TYPES[t]:
        params[_W] = _int(num_warmup_steps, _W)
    if _T in HF_SCHEDULER_TYPES[t]:
        if num_training_steps is None:
            raise UnsupportedScheduler("lr_scheduler_type %r needs num_training_steps" % t)
        params[_T] = _int(num_training_steps, _T)
    for k, v in kwargs.items():
        if v is not None:
            params[k] = v if isinstance(v, str) else _number(v, k)
    if lr_init is not None and (t == "polynomial" or (t in ("cosine_with_min_lr", "cosine_warmup_with_min_lr") and "min_lr" in params)):
        params["lr_init"] = _float(lr_init, "lr_init")
    params["base_lrs"] = base
    return {"scheduler": t, "params": params}
