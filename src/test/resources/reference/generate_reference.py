#!/usr/bin/python3
"""Regenerates the reference lr sequences in this folder (see README.md for provenance).

Run with Debian's interpreter and Debian's PyTorch (apt-get install python3-torch, 1.13.1+dfsg):

    /usr/bin/python3 generate_reference.py            # writes the four JSON files next to this script
    /usr/bin/python3 generate_reference.py --check    # regenerates in memory, compares byte for byte

Files:
  chained_scheduler.json        real torch.optim.lr_scheduler.ChainedScheduler
  torch_resume_last_epoch.json  real torch schedulers constructed with last_epoch = L (resume)
  hf_schedules.json             transformers' lr lambdas (transcribed below) run by the real torch LambdaLR
  deepspeed_schedules.json      DeepSpeed WarmupLR / WarmupDecayLR / WarmupCosineLR (transcribed below)
                                driving a real torch SGD optimizer

Index meaning everywhere: lr[g][i] = optimizer.param_groups[g]['lr'] read just before the i-th
optimizer.step(), in the loop `record lrs; optimizer.step(); scheduler.step()`; the scheduler is
constructed before the loop exactly as the framework constructs it.
"""

import functools
import json
import math
import os
import sys
import warnings

import torch
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    StepLR,
)

HERE = os.path.dirname(os.path.abspath(__file__))

TORCH_SOURCE = "torch-1.13.1"
TORCH_PACKAGE = "python3-torch 1.13.1+dfsg-4 (Debian)"
INDEX_MEANING = ("lr[g][i] = optimizer.param_groups[g]['lr'] read just before the i-th optimizer.step(); "
                 "loop: record, optimizer.step(), scheduler.step()")
GENERATOR = "src/test/resources/reference/generate_reference.py"

HF_REPO = "huggingface/transformers"
HF_PATH = "src/transformers/optimization.py"
HF_COMMIT = "005edacb6b5dabbf0843e92c6623de9e07ca6241"
HF_SOURCE = "transformers@" + HF_COMMIT + " transcribed"

DS_REPO = "deepspeedai/DeepSpeed"
DS_PATH = "deepspeed/runtime/lr_schedules.py"
DS_COMMIT = "614e3f17a0ca82dfc1ee9aaf887b783cac97a5bb"
DS_SOURCE = "deepspeed@" + DS_COMMIT + " transcribed"


# ----------------------------------------------------------------------------------------------
# common helpers (real torch optimizer, the loop)
# ----------------------------------------------------------------------------------------------

def make_sgd(base_lrs, momentum=0.0):
    """One zero parameter (with a zero gradient) per param group; SGD(lr=base_lrs[0])."""
    groups = []
    for lr in base_lrs:
        p = torch.nn.Parameter(torch.zeros(1))
        p.grad = torch.zeros(1)
        groups.append({"params": [p], "lr": lr})
    return torch.optim.SGD(groups, lr=base_lrs[0], momentum=momentum)


def run_loop(opt, sched, steps):
    lrs = [[] for _ in opt.param_groups]
    for _ in range(steps):
        for g, group in enumerate(opt.param_groups):
            lr = group["lr"]
            assert type(lr) is float, type(lr)
            lrs[g].append(lr)
        opt.step()
        sched.step()
    return lrs


def collect_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    msgs = []
    for w in caught:
        m = str(w.message)
        if m not in msgs:
            msgs.append(m)
    return result, msgs


# ----------------------------------------------------------------------------------------------
# 1. ChainedScheduler (real torch)
# ----------------------------------------------------------------------------------------------

TORCH_CLASSES = {
    "ConstantLR": ConstantLR,
    "ExponentialLR": ExponentialLR,
    "LinearLR": LinearLR,
    "StepLR": StepLR,
    "MultiStepLR": MultiStepLR,
    "CosineAnnealingLR": CosineAnnealingLR,
    "PolynomialLR": PolynomialLR,
}

# every constructor argument except optimizer/verbose, signature defaults filled in (torch 1.13.1)
TORCH_DEFAULTS = {
    "ConstantLR": {"factor": 1.0 / 3, "total_iters": 5, "last_epoch": -1},
    "ExponentialLR": {"last_epoch": -1},
    "LinearLR": {"start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5, "last_epoch": -1},
    "StepLR": {"gamma": 0.1, "last_epoch": -1},
    "MultiStepLR": {"gamma": 0.1, "last_epoch": -1},
    "CosineAnnealingLR": {"eta_min": 0, "last_epoch": -1},
    "PolynomialLR": {"total_iters": 5, "power": 1.0, "last_epoch": -1},
}
TORCH_ARG_ORDER = {
    "ConstantLR": ["factor", "total_iters", "last_epoch"],
    "ExponentialLR": ["gamma", "last_epoch"],
    "LinearLR": ["start_factor", "end_factor", "total_iters", "last_epoch"],
    "StepLR": ["step_size", "gamma", "last_epoch"],
    "MultiStepLR": ["milestones", "gamma", "last_epoch"],
    "CosineAnnealingLR": ["T_max", "eta_min", "last_epoch"],
    "PolynomialLR": ["total_iters", "power", "last_epoch"],
}


def full_params(cls_name, given):
    merged = dict(TORCH_DEFAULTS[cls_name])
    merged.update(given)
    return {k: merged[k] for k in TORCH_ARG_ORDER[cls_name]}


CHAINED_CASES = [
    # (name, [(class, args)], base_lrs, steps, note)
    ("docs_constant0.1_2_then_exponential0.9",
     [("ConstantLR", {"factor": 0.1, "total_iters": 2}), ("ExponentialLR", {"gamma": 0.9})],
     [1.0], 100,
     "the torch 1.13 ChainedScheduler docstring example (lr = 1.0). The docstring's comment "
     "(0.09, 0.081, 0.729, 0.6561, 0.59049) is not what torch computes: ExponentialLR's construction step "
     "(last_epoch 0) leaves the lr alone, so index 0 is 0.1, index 1 0.09, index 2 0.81 (ConstantLR restores "
     "x10 at its total_iters), index 3 0.729, ..."),
    ("linear_warmup0.01_20_then_step50_g0.5",
     [("LinearLR", {"start_factor": 0.01, "end_factor": 1.0, "total_iters": 20}),
      ("StepLR", {"step_size": 50, "gamma": 0.5})],
     [0.1], 200, None),
    ("multistep30_80_g0.1_then_exponential0.99_2groups",
     [("MultiStepLR", {"milestones": [30, 80], "gamma": 0.1}), ("ExponentialLR", {"gamma": 0.99})],
     [0.1, 0.01], 150, None),
    ("linear0.1_10_then_cosine50_eta0_150steps",
     [("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
      ("CosineAnnealingLR", {"T_max": 50, "eta_min": 0})],
     [0.1], 150,
     "runs 3*T_max: CosineAnnealingLR's recursive form reaches exactly 0.0 at last_epoch 50 "
     "(1 + cos(pi) == 0.0), then its additive branch ((last_epoch - 1 - T_max) % (2*T_max) == 0, i.e. "
     "last_epoch 51) adds (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2 and it climbs back up"),
    ("polynomial100_p2_then_constant0.5_20_2groups",
     [("PolynomialLR", {"total_iters": 100, "power": 2.0}), ("ConstantLR", {"factor": 0.5, "total_iters": 20})],
     [0.05, 0.2], 150,
     "PolynomialLR reaches exactly 0.0 at last_epoch 100 and stays there"),
]


def build_chained():
    cases = []
    for name, children, base_lrs, steps, note in CHAINED_CASES:
        def go():
            opt = make_sgd(base_lrs)
            scheds = [TORCH_CLASSES[c](opt, **args) for c, args in children]
            sched = ChainedScheduler(scheds)
            return run_loop(opt, sched, steps)
        lrs, warns = collect_warnings(go)
        case = {
            "name": name,
            "source": TORCH_SOURCE,
            "scheduler": "ChainedScheduler",
            "params": {
                "schedulers": [{"scheduler": c, "params": full_params(c, args)} for c, args in children],
                "base_lrs": list(base_lrs),
            },
            "steps": steps,
        }
        if note:
            case["note"] = note
        if warns:
            case["torch_warnings"] = warns
        case["lr"] = lrs
        cases.append(case)
    header = {
        "source": TORCH_SOURCE,
        "family": "chained_scheduler",
        "torch_package": TORCH_PACKAGE,
        "torch_version_string": torch.__version__,
        "index_meaning": INDEX_MEANING,
        "construction": ("children constructed in list order on the same SGD optimizer (each child's "
                         "construction performs its own initial step on the shared group lr), then "
                         "ChainedScheduler(children); ChainedScheduler.step() calls child.step() in list order"),
        "generator": GENERATOR,
    }
    return header, cases


# ----------------------------------------------------------------------------------------------
# 2. resume with last_epoch = L (real torch)
# ----------------------------------------------------------------------------------------------

RESUME_CASES = [
    # (name, class, args, base_lrs, L, steps, momentum)
    ("step30_g0.1_resume_at_45", "StepLR", {"step_size": 30, "gamma": 0.1}, [0.1], 45, 100, 0.0),
    ("cosine_T100_eta1e-4_2groups_resume_at_37", "CosineAnnealingLR", {"T_max": 100, "eta_min": 0.0001},
     [0.1, 0.01], 37, 150, 0.0),
    ("onecycle_max0.1_total300_resume_at_100", "OneCycleLR", {"max_lr": 0.1, "total_steps": 300},
     [0.1], 100, 199, 0.9),
    ("exponential0.95_resume_at_20", "ExponentialLR", {"gamma": 0.95}, [0.1], 20, 100, 0.0),
    # chainable from the group lr: torch 2.x keeps it on construction (golden-torch2 replays these)
    ("linear0.01_to_1_50_2groups_resume_at_20", "LinearLR", {"start_factor": 0.01, "end_factor": 1.0, "total_iters": 50},
     [0.1, 0.02], 20, 80, 0.0),
    ("linear1_to_0_30_resume_at_29", "LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 30}, [0.1], 29, 20, 0.0),
    ("polynomial100_p2_resume_at_40", "PolynomialLR", {"total_iters": 100, "power": 2.0}, [0.1], 40, 100, 0.0),
    ("polynomial50_p1_resume_at_49", "PolynomialLR", {"total_iters": 50, "power": 1.0}, [0.1], 49, 20, 0.0),
    ("cosine_T20_eta1e-3_resume_at_25_past_tmax", "CosineAnnealingLR", {"T_max": 20, "eta_min": 0.001}, [0.1], 25, 80, 0.0),
]

ONECYCLE_DEFAULTS = {"total_steps": None, "epochs": None, "steps_per_epoch": None, "pct_start": 0.3,
                     "anneal_strategy": "cos", "cycle_momentum": True, "base_momentum": 0.85,
                     "max_momentum": 0.95, "div_factor": 25.0, "final_div_factor": 10000.0,
                     "three_phase": False, "last_epoch": -1}
ONECYCLE_ORDER = ["max_lr"] + list(ONECYCLE_DEFAULTS.keys())
ONECYCLE_GROUP_KEYS = ["initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum", "momentum"]


def make_torch_sched(cls_name, opt, args, last_epoch):
    if cls_name == "OneCycleLR":
        return OneCycleLR(opt, last_epoch=last_epoch, **args)
    return TORCH_CLASSES[cls_name](opt, last_epoch=last_epoch, **args)


def build_resume():
    cases = []
    for name, cls_name, args, base_lrs, L, steps, momentum in RESUME_CASES:
        def go():
            # uninterrupted reference run: long enough to cover index L + 1 + steps - 1
            ref_opt = make_sgd(base_lrs, momentum)
            ref = make_torch_sched(cls_name, ref_opt, args, -1)
            ref_lrs = [[] for _ in base_lrs]
            group_state_at_L = None
            total = L + 1 + steps
            for i in range(total):
                if i == L:
                    group_state_at_L = [{k: grp[k] for k in grp if k != "params"} for grp in ref_opt.param_groups]
                for g, grp in enumerate(ref_opt.param_groups):
                    ref_lrs[g].append(grp["lr"])
                ref_opt.step()
                if cls_name == "OneCycleLR" and i + 1 > args["total_steps"]:
                    break
                ref.step()
            # resumed run: fresh optimizer whose groups look like the uninterrupted one after L steps
            opt = make_sgd(base_lrs, momentum)
            for grp, saved in zip(opt.param_groups, group_state_at_L):
                grp["lr"] = saved["lr"]
                if cls_name == "OneCycleLR":
                    for k in ONECYCLE_GROUP_KEYS:
                        grp[k] = saved[k]
                else:
                    grp["initial_lr"] = saved["initial_lr"]
            sched = make_torch_sched(cls_name, opt, args, L)
            lrs = run_loop(opt, sched, steps)
            return lrs, ref_lrs, group_state_at_L
        (lrs, ref_lrs, saved), warns = collect_warnings(go)

        # compare with the uninterrupted run at index L + 1 + i
        max_abs = 0.0
        bit_identical = True
        for g in range(len(base_lrs)):
            for i in range(steps):
                a, b = lrs[g][i], ref_lrs[g][L + 1 + i]
                if a != b:
                    bit_identical = False
                max_abs = max(max_abs, abs(a - b))

        if cls_name == "OneCycleLR":
            params = dict(ONECYCLE_DEFAULTS)
            params.update(args)
            params = {k: params[k] for k in ONECYCLE_ORDER}
            params["last_epoch"] = L
            params["base_lrs"] = list(base_lrs)
            params["scheduler_base_lrs"] = [s["initial_lr"] for s in saved]
            params["optimizer_momentum"] = momentum
            params["resume_group_state"] = [{k: s[k] for k in ["lr"] + ONECYCLE_GROUP_KEYS} for s in saved]
        else:
            params = full_params(cls_name, args)
            params["last_epoch"] = L
            params["base_lrs"] = list(base_lrs)
            params["resume_group_state"] = [{"lr": s["lr"], "initial_lr": s["initial_lr"]} for s in saved]
        case = {
            "name": name,
            "source": TORCH_SOURCE,
            "scheduler": cls_name,
            "params": params,
            "steps": steps,
            "uninterrupted_index_offset": L + 1,
            "uninterrupted_bit_identical": bit_identical,
            "uninterrupted_max_abs_diff": max_abs,
        }
        if cls_name == "CosineAnnealingLR":
            case["note"] = ("construction with last_epoch=L takes the _step_count == 1 and last_epoch > 0 branch "
                            "of CosineAnnealingLR.get_lr (closed form from base_lrs at L+1); the recursive form "
                            "continues from there, so values differ from the uninterrupted run by rounding only")
        if cls_name == "OneCycleLR":
            case["note"] = ("OneCycleLR only writes initial_lr/max_lr/min_lr (and max_momentum/base_momentum/"
                            "momentum) into the groups when last_epoch == -1; on resume they must already be there, "
                            "so they were copied from the uninterrupted optimizer's groups after L steps "
                            "(params.resume_group_state). steps = total_steps - (L + 1): the final scheduler.step() "
                            "reaches step total_steps, one more would raise ValueError")
        if warns:
            case["torch_warnings"] = warns
        case["lr"] = lrs
        cases.append(case)
    header = {
        "source": TORCH_SOURCE,
        "family": "torch_resume_last_epoch",
        "torch_package": TORCH_PACKAGE,
        "torch_version_string": torch.__version__,
        "index_meaning": INDEX_MEANING,
        "construction": ("uninterrupted copy run L steps; fresh SGD whose group 'lr' = the uninterrupted group lr "
                         "after L scheduler.step() calls (its index L) and 'initial_lr' = base lr (OneCycleLR: "
                         "the group keys its source needs, copied); scheduler constructed with last_epoch=L, which "
                         "performs torch's initial step (last_epoch becomes L+1). So lr[g][i] is the uninterrupted "
                         "run's index L+1+i (uninterrupted_index_offset)"),
        "generator": GENERATOR,
    }
    return header, cases


# ----------------------------------------------------------------------------------------------
# 3. transformers schedules: transcription of src/transformers/optimization.py @ HF_COMMIT
#    (same operation order as the source); real torch LambdaLR does base_lr * lambda(last_epoch)
# ----------------------------------------------------------------------------------------------

def _get_constant_lambda(_=None):
    return 1


def _get_constant_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def _get_linear_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


def _get_cosine_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps, num_cycles):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda(
    current_step, *, num_warmup_steps, num_training_steps, num_cycles
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def _get_polynomial_decay_schedule_with_warmup_lr_lambda(
    current_step, *, num_warmup_steps, num_training_steps, lr_end, power, lr_init
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    elif current_step > num_training_steps:
        return lr_end / lr_init  # as LambdaLR multiplies by lr_init
    else:
        lr_range = lr_init - lr_end
        decay_steps = num_training_steps - num_warmup_steps
        pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
        decay = lr_range * pct_remaining**power + lr_end
        return decay / lr_init  # as LambdaLR multiplies by lr_init


def _get_inverse_sqrt_schedule_lr_lambda(current_step, *, num_warmup_steps, timescale=None):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    shift = timescale - num_warmup_steps
    decay = 1.0 / math.sqrt((current_step + shift) / timescale)
    return decay


# The source defines _get_cosine_schedule_with_warmup_lr_lambda TWICE. The second definition (just before
# get_cosine_with_min_lr_schedule_with_warmup) re-binds the module-level name, and the factories look the name
# up when they are called, i.e. after the module has loaded. So "cosine" (get_cosine_schedule_with_warmup) runs
# this second, min_lr_rate version with min_lr_rate = 0.0 too. For "cosine" the extra `factor * (1 - 0.0) + 0.0`
# and `max(0, factor)` change no value (0.5 * (1 + cos) is never negative); build_hf() checks that every "cosine"
# value is bit-identical under the first definition as well.
_cosine_lambda_first_definition = _get_cosine_schedule_with_warmup_lr_lambda


def _get_cosine_schedule_with_warmup_lr_lambda(
    current_step, *, num_warmup_steps, num_training_steps, num_cycles, min_lr_rate=0.0
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def _get_wsd_scheduler_lambda(
    current_step, *, num_warmup_steps, num_stable_steps, num_decay_steps, warmup_type, decay_type,
    min_lr_ratio, num_cycles,
):
    if current_step < num_warmup_steps:
        progress = float(current_step) / float(max(1, num_warmup_steps))
        if warmup_type == "linear":
            factor = progress
        elif warmup_type == "cosine":
            factor = 0.5 * (1.0 - math.cos(math.pi * progress))
        elif warmup_type == "1-sqrt":
            factor = 1.0 - math.sqrt(1.0 - progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)

    if current_step < num_warmup_steps + num_stable_steps:
        return 1.0

    if current_step < num_warmup_steps + num_stable_steps + num_decay_steps:
        progress = float(current_step - num_warmup_steps - num_stable_steps) / float(max(1, num_decay_steps))
        if decay_type == "linear":
            factor = 1.0 - progress
        elif decay_type == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        elif decay_type == "1-sqrt":
            factor = 1.0 - math.sqrt(progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)
    return min_lr_ratio


# the get_* factories (argument handling and defaults exactly as in the source)

def get_constant_schedule(optimizer, last_epoch=-1):
    return LambdaLR(optimizer, _get_constant_lambda, last_epoch=last_epoch), {}


def get_constant_schedule_with_warmup(optimizer, num_warmup_steps, last_epoch=-1):
    lr_lambda = functools.partial(_get_constant_schedule_with_warmup_lr_lambda, num_warmup_steps=num_warmup_steps)
    return LambdaLR(optimizer, lr_lambda, last_epoch=last_epoch), {}


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1):
    lr_lambda = functools.partial(_get_linear_schedule_with_warmup_lr_lambda, num_warmup_steps=num_warmup_steps,
                                  num_training_steps=num_training_steps)
    return LambdaLR(optimizer, lr_lambda, last_epoch), {}


def get_cosine_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, num_cycles=0.5, last_epoch=-1):
    lr_lambda = functools.partial(_get_cosine_schedule_with_warmup_lr_lambda,
                                  num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                                  num_cycles=num_cycles)
    return LambdaLR(optimizer, lr_lambda, last_epoch), {"num_cycles": num_cycles}


def get_cosine_with_hard_restarts_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
                                                       num_cycles=1, last_epoch=-1):
    lr_lambda = functools.partial(_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda,
                                  num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                                  num_cycles=num_cycles)
    return LambdaLR(optimizer, lr_lambda, last_epoch), {"num_cycles": num_cycles}


def get_polynomial_decay_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, lr_end=1e-7,
                                              power=1.0, last_epoch=-1):
    lr_init = optimizer.defaults["lr"]
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    lr_lambda = functools.partial(_get_polynomial_decay_schedule_with_warmup_lr_lambda,
                                  num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                                  lr_end=lr_end, power=power, lr_init=lr_init)
    return LambdaLR(optimizer, lr_lambda, last_epoch), {"lr_init": lr_init}


def get_inverse_sqrt_schedule(optimizer, num_warmup_steps, timescale=None, last_epoch=-1):
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    lr_lambda = functools.partial(_get_inverse_sqrt_schedule_lr_lambda, num_warmup_steps=num_warmup_steps,
                                  timescale=timescale)
    return LambdaLR(optimizer, lr_lambda, last_epoch=last_epoch), {"timescale": timescale}


def get_cosine_with_min_lr_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, num_cycles=0.5,
                                                last_epoch=-1, min_lr=None, min_lr_rate=None):
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    elif min_lr is not None:
        min_lr_rate = min_lr / optimizer.defaults["lr"]
    elif min_lr_rate is None:
        raise ValueError("One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`")
    lr_lambda = functools.partial(_get_cosine_schedule_with_warmup_lr_lambda,
                                  num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                                  num_cycles=num_cycles, min_lr_rate=min_lr_rate)
    return LambdaLR(optimizer, lr_lambda, last_epoch), {"min_lr_rate": min_lr_rate}


def get_wsd_schedule(optimizer, num_warmup_steps, num_decay_steps, num_training_steps=None, num_stable_steps=None,
                     warmup_type="linear", decay_type="cosine", min_lr_ratio=0, num_cycles=0.5, last_epoch=-1):
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn("Both num_training_steps and num_stable_steps are specified. num_stable_steps will be used.")
    if warmup_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' or '1-sqrt'")
    if decay_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' or '1-sqrt'")
    if num_stable_steps is None:
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    lr_lambda = functools.partial(_get_wsd_scheduler_lambda, num_warmup_steps=num_warmup_steps,
                                  num_stable_steps=num_stable_steps, num_decay_steps=num_decay_steps,
                                  warmup_type=warmup_type, decay_type=decay_type, min_lr_ratio=min_lr_ratio,
                                  num_cycles=num_cycles)
    return LambdaLR(optimizer, lr_lambda, last_epoch), {"num_stable_steps": num_stable_steps}


HF_FACTORIES = {
    "linear": ("get_linear_schedule_with_warmup", get_linear_schedule_with_warmup),
    "cosine": ("get_cosine_schedule_with_warmup", get_cosine_schedule_with_warmup),
    "cosine_with_restarts": ("get_cosine_with_hard_restarts_schedule_with_warmup",
                             get_cosine_with_hard_restarts_schedule_with_warmup),
    "polynomial": ("get_polynomial_decay_schedule_with_warmup", get_polynomial_decay_schedule_with_warmup),
    "constant": ("get_constant_schedule", get_constant_schedule),
    "constant_with_warmup": ("get_constant_schedule_with_warmup", get_constant_schedule_with_warmup),
    "inverse_sqrt": ("get_inverse_sqrt_schedule", get_inverse_sqrt_schedule),
    "cosine_with_min_lr": ("get_cosine_with_min_lr_schedule_with_warmup",
                           get_cosine_with_min_lr_schedule_with_warmup),
    "warmup_stable_decay": ("get_wsd_schedule", get_wsd_schedule),
}

HF_CASES = [
    # (name, lr_scheduler_type, kwargs (HF argument names, exactly what is passed), base_lrs, steps)
    ("linear_w100_t1000", "linear", {"num_warmup_steps": 100, "num_training_steps": 1000}, [5e-05], 1000),
    ("linear_w0_t300_past_end", "linear", {"num_warmup_steps": 0, "num_training_steps": 300}, [0.001], 400),
    ("linear_w30_t200_2groups_past_end", "linear", {"num_warmup_steps": 30, "num_training_steps": 200},
     [0.001, 0.0001], 250),
    ("cosine_w50_t500_c0.5_past_end", "cosine",
     {"num_warmup_steps": 50, "num_training_steps": 500, "num_cycles": 0.5}, [0.001], 700),
    ("cosine_w10_t300_default_num_cycles", "cosine", {"num_warmup_steps": 10, "num_training_steps": 300},
     [0.0003], 300),
    ("cosine_w0_t200_c1.5_2groups_past_end", "cosine",
     {"num_warmup_steps": 0, "num_training_steps": 200, "num_cycles": 1.5}, [0.1, 0.01], 250),
    ("cosine_with_restarts_w100_t1000_c3_past_end", "cosine_with_restarts",
     {"num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 3}, [5e-05], 1100),
    ("cosine_with_restarts_w0_t300_c1_2groups", "cosine_with_restarts",
     {"num_warmup_steps": 0, "num_training_steps": 300, "num_cycles": 1}, [0.01, 0.001], 300),
    ("polynomial_w100_t1000_end1e-7_p1_past_end", "polynomial",
     {"num_warmup_steps": 100, "num_training_steps": 1000, "lr_end": 1e-07, "power": 1.0}, [5e-05], 1100),
    ("polynomial_w20_t300_end1e-5_p2_2groups_past_end", "polynomial",
     {"num_warmup_steps": 20, "num_training_steps": 300, "lr_end": 1e-05, "power": 2.0}, [0.001, 0.01], 350),
    ("polynomial_w0_t200_end0_p0.5_past_end", "polynomial",
     {"num_warmup_steps": 0, "num_training_steps": 200, "lr_end": 0.0, "power": 0.5}, [0.01], 250),
    ("constant_2groups", "constant", {}, [0.01, 0.001], 100),
    ("constant_with_warmup_w50", "constant_with_warmup", {"num_warmup_steps": 50}, [0.001], 200),
    ("constant_with_warmup_w0_2groups", "constant_with_warmup", {"num_warmup_steps": 0}, [0.1, 0.01], 100),
    ("inverse_sqrt_w100_default_timescale", "inverse_sqrt", {"num_warmup_steps": 100}, [0.001], 1000),
    ("inverse_sqrt_w50_ts500_2groups", "inverse_sqrt", {"num_warmup_steps": 50, "timescale": 500},
     [0.001, 0.01], 1000),
    ("inverse_sqrt_w0_ts10000", "inverse_sqrt", {"num_warmup_steps": 0, "timescale": 10000}, [0.001], 500),
    ("cosine_with_min_lr_w50_t500_min_lr1e-5_past_end", "cosine_with_min_lr",
     {"num_warmup_steps": 50, "num_training_steps": 500, "num_cycles": 0.5, "min_lr": 1e-05}, [0.001], 700),
    ("cosine_with_min_lr_w0_t300_rate0.1_2groups", "cosine_with_min_lr",
     {"num_warmup_steps": 0, "num_training_steps": 300, "num_cycles": 0.5, "min_lr_rate": 0.1},
     [0.001, 0.0001], 300),
    ("cosine_with_min_lr_w20_t200_min_lr1e-4_2groups_past_end", "cosine_with_min_lr",
     {"num_warmup_steps": 20, "num_training_steps": 200, "num_cycles": 0.5, "min_lr": 0.0001},
     [0.001, 0.01], 260),
    ("wsd_linear_cosine_w100_t1000_d300_past_end", "warmup_stable_decay",
     {"num_warmup_steps": 100, "num_training_steps": 1000, "num_decay_steps": 300, "warmup_type": "linear",
      "decay_type": "cosine", "min_lr_ratio": 0.0, "num_cycles": 0.5}, [0.001], 1100),
    ("wsd_cosine_linear_w50_s100_d100_min0.1_past_end", "warmup_stable_decay",
     {"num_warmup_steps": 50, "num_stable_steps": 100, "num_decay_steps": 100, "warmup_type": "cosine",
      "decay_type": "linear", "min_lr_ratio": 0.1, "num_cycles": 0.5}, [0.001], 300),
    ("wsd_1-sqrt_1-sqrt_w20_t200_d60_min0.01_2groups_past_end", "warmup_stable_decay",
     {"num_warmup_steps": 20, "num_training_steps": 200, "num_decay_steps": 60, "warmup_type": "1-sqrt",
      "decay_type": "1-sqrt", "min_lr_ratio": 0.01, "num_cycles": 0.5}, [0.001, 0.01], 250),
    ("wsd_both_t500_and_s100_stable_wins", "warmup_stable_decay",
     {"num_warmup_steps": 50, "num_training_steps": 500, "num_stable_steps": 100, "num_decay_steps": 100,
      "warmup_type": "linear", "decay_type": "cosine", "min_lr_ratio": 0.05, "num_cycles": 0.5}, [0.001], 300),
]


def build_hf():
    cases = []
    for name, kind, kwargs, base_lrs, steps in HF_CASES:
        fn_name, factory = HF_FACTORIES[kind]

        def go():
            opt = make_sgd(base_lrs)
            sched, effective = factory(opt, **kwargs)
            return run_loop(opt, sched, steps), effective
        (lrs, effective), warns = collect_warnings(go)
        if kind == "cosine":
            # same values under the first (shadowed) definition of the cosine lambda, bit for bit
            nc = kwargs.get("num_cycles", 0.5)
            for g, base in enumerate(base_lrs):
                for i in range(steps):
                    alt = base * _cosine_lambda_first_definition(
                        i, num_warmup_steps=kwargs["num_warmup_steps"],
                        num_training_steps=kwargs["num_training_steps"], num_cycles=nc)
                    assert alt == lrs[g][i], (name, g, i, alt, lrs[g][i])
        params = dict(kwargs)
        params["last_epoch"] = -1
        params["base_lrs"] = list(base_lrs)
        # derived values the source computes (not arguments)
        eff = {}
        if kind == "polynomial":
            eff["lr_init"] = effective["lr_init"]
        if kind == "inverse_sqrt" and "timescale" not in kwargs:
            eff["timescale"] = effective["timescale"]
        if kind == "cosine" and "num_cycles" not in kwargs:
            eff["num_cycles"] = effective["num_cycles"]
        if kind == "cosine_with_min_lr":
            eff["min_lr_rate"] = effective["min_lr_rate"]
        if kind == "warmup_stable_decay":
            eff["num_stable_steps"] = effective["num_stable_steps"]
        if eff:
            params["effective"] = eff
        case = {
            "name": name,
            "source": HF_SOURCE,
            "scheduler": kind,
            "transformers_function": fn_name,
            "params": params,
            "steps": steps,
        }
        if warns:
            case["warnings"] = warns
        case["lr"] = lrs
        cases.append(case)
    header = {
        "source": HF_SOURCE,
        "family": "hf_schedules",
        "transformers_source": {"repo": HF_REPO, "path": HF_PATH, "commit": HF_COMMIT},
        "torch_package": TORCH_PACKAGE,
        "torch_version_string": torch.__version__,
        "index_meaning": INDEX_MEANING,
        "construction": ("SGD(groups, lr=base_lrs[0]) so optimizer.defaults['lr'] = base_lrs[0]; the transcribed "
                         "get_* factory builds the real torch LambdaLR (one lambda for all groups); "
                         "lr = base_lr * lambda(last_epoch) computed by torch"),
        "generator": GENERATOR,
    }
    return header, cases


# ----------------------------------------------------------------------------------------------
# 4. DeepSpeed: transcription of deepspeed/runtime/lr_schedules.py @ DS_COMMIT
#    (WarmupLR, WarmupDecayLR, WarmupCosineLR, update_lr, get_torch_optimizer), run on a real SGD
# ----------------------------------------------------------------------------------------------

WARMUP_LOG_RATE = 'log'
WARMUP_LINEAR_RATE = 'linear'


class _ListLogger:
    """Stands in for deepspeed.utils.logger; keeps the messages so the data can show them."""

    def __init__(self):
        self.messages = []

    def warning(self, msg):
        if msg not in self.messages:
            self.messages.append(msg)


logger = _ListLogger()


def update_lr(param_groups, lrs):
    for param_group, lr in zip(param_groups, lrs):
        # new LR should match the type of current LR for scalar and Tensor LR support
        if torch.is_tensor(param_group['lr']):
            lr = torch.tensor([lr], device=param_group['lr'].device)
        param_group['lr'] = lr
    return [group['lr'] for group in param_groups]


def get_torch_optimizer(optimizer):
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if hasattr(optimizer, 'optimizer') and isinstance(optimizer.optimizer, torch.optim.Optimizer):
        return optimizer.optimizer
    raise TypeError('{} is not a subclass of torch.optim.Optimizer'.format(type(optimizer).__name__))


class WarmupLR(object):

    def __init__(self, optimizer, warmup_min_lr=0.0, warmup_max_lr=None, warmup_num_steps=1000,
                 warmup_type=WARMUP_LOG_RATE, last_batch_iteration=-1):

        if not isinstance(warmup_num_steps, int) or warmup_num_steps <= 0:
            raise ValueError(f"warmup_num_steps must be a positive integer, got {warmup_num_steps}")

        self.optimizer = get_torch_optimizer(optimizer)

        if warmup_max_lr is None:
            warmup_max_lr = [group['lr'] for group in self.optimizer.param_groups]

        self.min_lrs = self._format_param(self.optimizer, warmup_min_lr, "min_lr")
        self.max_lrs = self._format_param(self.optimizer, warmup_max_lr, "max_lr")
        self.delta_lrs = [big - small for big, small in zip(self.max_lrs, self.min_lrs)]
        self.warmup_num_steps = max(2, warmup_num_steps)
        # Currently only support linear and log function
        if warmup_type not in {WARMUP_LOG_RATE, WARMUP_LINEAR_RATE}:
            logger.warning(f"Using unknown warmup_type: {warmup_type}. The increasing function "
                           f"is set to default (log)")
            warmup_type = WARMUP_LOG_RATE
        self.warmup_type = warmup_type
        self.inverse_log_warm_up = 1.0 / math.log(self.warmup_num_steps)
        self.last_batch_iteration = last_batch_iteration
        # Initialize lr in optimizer
        if last_batch_iteration == -1:
            self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def get_lr(self):
        if self.last_batch_iteration < 0:
            logger.warning("Attempting to get learning rate from scheduler before it has started")
            return self.min_lrs
        gamma = self._get_gamma()
        return [min_lr + (delta_lr * gamma) for min_lr, delta_lr in zip(self.min_lrs, self.delta_lrs)]

    def step(self, last_batch_iteration=None):
        if last_batch_iteration is None:
            last_batch_iteration = self.last_batch_iteration + 1
        self.last_batch_iteration = last_batch_iteration
        self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def _get_gamma(self):
        if self.last_batch_iteration < self.warmup_num_steps:
            if self.warmup_type == WARMUP_LOG_RATE:
                return self.inverse_log_warm_up * math.log(self.last_batch_iteration + 1)
            elif self.warmup_type == WARMUP_LINEAR_RATE:
                return self.last_batch_iteration / self.warmup_num_steps
        return 1.0

    def _format_param(self, optimizer, param_value, param_name):
        if isinstance(param_value, list) or isinstance(param_value, tuple):
            if len(param_value) != len(optimizer.param_groups):
                raise ValueError("expected {} value for {}, got {}".format(len(optimizer.param_groups), param_name,
                                                                           FileNotFoundError(param_value)))
            return list(param_value)
        return [param_value] * len(optimizer.param_groups)


class WarmupDecayLR(WarmupLR):

    def __init__(self, optimizer, total_num_steps, warmup_min_lr=0.0, warmup_max_lr=0.001, warmup_num_steps=1000,
                 warmup_type=WARMUP_LOG_RATE, last_batch_iteration=-1):

        self.total_num_steps = total_num_steps
        super(WarmupDecayLR, self).__init__(optimizer, warmup_min_lr, warmup_max_lr, warmup_num_steps, warmup_type,
                                            last_batch_iteration)
        if self.total_num_steps < self.warmup_num_steps:
            logger.warning('total_num_steps {} is less than warmup_num_steps {}'.format(
                total_num_steps, warmup_num_steps))

    def _get_gamma(self):
        if self.last_batch_iteration < self.warmup_num_steps:
            if self.warmup_type == WARMUP_LOG_RATE:
                return self.inverse_log_warm_up * math.log(self.last_batch_iteration + 1)
            elif self.warmup_type == WARMUP_LINEAR_RATE:
                return self.last_batch_iteration / self.warmup_num_steps
        return max(
            0.0,
            float(self.total_num_steps - self.last_batch_iteration) /
            float(max(1.0, self.total_num_steps - self.warmup_num_steps)))


class WarmupCosineLR(object):

    def __init__(self, optimizer, total_num_steps, warmup_min_ratio=0.0, warmup_num_steps=1000,
                 cos_min_ratio=0.0001, warmup_type=WARMUP_LOG_RATE, last_batch_iteration=-1):

        if not isinstance(warmup_num_steps, int) or warmup_num_steps <= 0:
            raise ValueError(f"warmup_num_steps must be a positive integer, got {warmup_num_steps}")

        self.optimizer = get_torch_optimizer(optimizer)

        self.total_num_steps = total_num_steps
        self.last_batch_iteration = last_batch_iteration
        self.cos_min_ratio = cos_min_ratio

        # Currently only support linear and log function
        if warmup_type not in {WARMUP_LOG_RATE, WARMUP_LINEAR_RATE}:
            logger.warning(f"Using unknown warmup_type: {warmup_type}. The increasing function "
                           f"is set to default (log)")
            warmup_type = WARMUP_LOG_RATE
        self.warmup_type = warmup_type
        self.warmup_min_ratio = warmup_min_ratio
        self.warmup_num_steps = max(2, warmup_num_steps)
        self.inverse_log_warm_up = 1.0 / math.log(self.warmup_num_steps)

        if self.total_num_steps < self.warmup_num_steps:
            logger.warning('total_num_steps {} is less than warmup_num_steps {}'.format(
                total_num_steps, warmup_num_steps))
        self.org_lrs = [group['lr'] for group in self.optimizer.param_groups]

        # Initialize lrs in optimizer groups
        if last_batch_iteration == -1:
            self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def get_lr_ratio(self):
        if self.last_batch_iteration < 0:
            logger.warning("Attempting to get learning rate from scheduler before it has started")
            return 0.0

        if self.last_batch_iteration < self.warmup_num_steps:
            if self.warmup_type == WARMUP_LOG_RATE:
                ratio = self.inverse_log_warm_up * math.log(self.last_batch_iteration + 1)
            elif self.warmup_type == WARMUP_LINEAR_RATE:
                ratio = self.last_batch_iteration / self.warmup_num_steps
            ratio_delta = 1. - self.warmup_min_ratio
            ratio = self.warmup_min_ratio + ratio * ratio_delta
            return ratio

        real_last_step = self.last_batch_iteration - self.warmup_num_steps + 1
        real_total_steps = max(1, self.total_num_steps - self.warmup_num_steps)
        # Clamp the cosine progress to [0, 1] so that once the schedule reaches (or steps
        # past) its end, the ratio stays at cos_min_ratio instead of oscillating back up.
        cosine_progress = min(1.0, real_last_step / real_total_steps)
        ratio_delta = 1. - self.cos_min_ratio
        ratio = (1 + math.cos(math.pi * cosine_progress)) / 2
        ratio = max(0.0, self.cos_min_ratio + ratio_delta * ratio)
        return ratio

    def step(self, last_batch_iteration=None):
        if last_batch_iteration is None:
            last_batch_iteration = self.last_batch_iteration + 1
        self.last_batch_iteration = last_batch_iteration
        self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def get_lr(self):
        if self.last_batch_iteration < 0:
            logger.warning("Attempting to get learning rate from scheduler before it has started")
            return [0.0 for _ in self.org_lrs]
        lr_ratio = self.get_lr_ratio()
        return [org_lr * lr_ratio for org_lr in self.org_lrs]


DS_CLASSES = {"WarmupLR": WarmupLR, "WarmupDecayLR": WarmupDecayLR, "WarmupCosineLR": WarmupCosineLR}
DS_ARG_ORDER = {
    "WarmupLR": ["warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type", "last_batch_iteration"],
    "WarmupDecayLR": ["total_num_steps", "warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type",
                      "last_batch_iteration"],
    "WarmupCosineLR": ["total_num_steps", "warmup_min_ratio", "warmup_num_steps", "cos_min_ratio", "warmup_type",
                       "last_batch_iteration"],
}

DS_CASES = [
    # (name, class, kwargs (all explicit), base_lrs = SGD group lrs, steps)
    ("warmuplr_log_min0_max1e-3_w100", "WarmupLR",
     {"warmup_min_lr": 0.0, "warmup_max_lr": 0.001, "warmup_num_steps": 100, "warmup_type": "log"}, [0.01], 300),
    ("warmuplr_linear_min1e-5_max1e-3_w50", "WarmupLR",
     {"warmup_min_lr": 1e-05, "warmup_max_lr": 0.001, "warmup_num_steps": 50, "warmup_type": "linear"},
     [0.001], 200),
    ("warmuplr_log_per_group_lists_2groups", "WarmupLR",
     {"warmup_min_lr": [0.0, 1e-05], "warmup_max_lr": [0.001, 0.01], "warmup_num_steps": 100,
      "warmup_type": "log"}, [0.5, 0.05], 300),
    ("warmuplr_log_w1_clamped_to_2", "WarmupLR",
     {"warmup_min_lr": 0.0001, "warmup_max_lr": 0.001, "warmup_num_steps": 1, "warmup_type": "log"}, [0.001], 100),
    ("warmupdecaylr_log_w100_t1000_past_end", "WarmupDecayLR",
     {"total_num_steps": 1000, "warmup_min_lr": 0.0, "warmup_max_lr": 0.001, "warmup_num_steps": 100,
      "warmup_type": "log"}, [0.001], 1100),
    ("warmupdecaylr_linear_w50_t300_min1e-5_past_end", "WarmupDecayLR",
     {"total_num_steps": 300, "warmup_min_lr": 1e-05, "warmup_max_lr": 0.001, "warmup_num_steps": 50,
      "warmup_type": "linear"}, [0.001], 400),
    ("warmupdecaylr_linear_w1_clamped_t100_2groups_past_end", "WarmupDecayLR",
     {"total_num_steps": 100, "warmup_min_lr": [0.0, 0.0001], "warmup_max_lr": [0.001, 0.002],
      "warmup_num_steps": 1, "warmup_type": "linear"}, [0.001, 0.002], 150),
    ("warmupcosinelr_log_w100_t1000_past_end", "WarmupCosineLR",
     {"total_num_steps": 1000, "warmup_min_ratio": 0.0, "warmup_num_steps": 100, "cos_min_ratio": 0.0001,
      "warmup_type": "log"}, [0.001], 1100),
    ("warmupcosinelr_linear_w30_t300_ratios0.01_2groups_past_end", "WarmupCosineLR",
     {"total_num_steps": 300, "warmup_min_ratio": 0.01, "warmup_num_steps": 30, "cos_min_ratio": 0.01,
      "warmup_type": "linear"}, [0.001, 0.01], 400),
    ("warmupcosinelr_linear_w1_clamped_t100_past_end", "WarmupCosineLR",
     {"total_num_steps": 100, "warmup_min_ratio": 0.1, "warmup_num_steps": 1, "cos_min_ratio": 0.05,
      "warmup_type": "linear"}, [0.01], 150),
    ("warmupcosinelr_log_total_equals_warmup50", "WarmupCosineLR",
     {"total_num_steps": 50, "warmup_min_ratio": 0.0, "warmup_num_steps": 50, "cos_min_ratio": 0.1,
      "warmup_type": "log"}, [0.001], 100),
]


def build_deepspeed():
    cases = []
    for name, cls_name, kwargs, base_lrs, steps in DS_CASES:
        logger.messages = []
        opt = make_sgd(base_lrs)
        sched = DS_CLASSES[cls_name](opt, last_batch_iteration=-1, **kwargs)
        lrs = run_loop(opt, sched, steps)
        params = dict(kwargs)
        params["last_batch_iteration"] = -1
        params = {k: params[k] for k in DS_ARG_ORDER[cls_name]}
        params["base_lrs"] = list(base_lrs)
        params["effective"] = {"warmup_num_steps": sched.warmup_num_steps}
        case = {
            "name": name,
            "source": DS_SOURCE,
            "scheduler": cls_name,
            "params": params,
            "steps": steps,
        }
        if logger.messages:
            case["deepspeed_log_warnings"] = list(logger.messages)
        case["lr"] = lrs
        cases.append(case)
    header = {
        "source": DS_SOURCE,
        "family": "deepspeed_schedules",
        "deepspeed_source": {"repo": DS_REPO, "path": DS_PATH, "commit": DS_COMMIT},
        "torch_package": TORCH_PACKAGE,
        "torch_version_string": torch.__version__,
        "index_meaning": INDEX_MEANING,
        "construction": ("SGD(groups with lr = base_lrs[g], lr=base_lrs[0]); the transcribed DeepSpeed scheduler is "
                         "constructed on it with last_batch_iteration=-1 (its __init__ writes the group lrs via "
                         "update_lr); loop as DeepSpeedEngine._take_model_step: optimizer.step() then "
                         "lr_scheduler.step()"),
        "generator": GENERATOR,
    }
    return header, cases


# ----------------------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------------------

def dumps(header, cases):
    head = json.dumps(header, separators=(",", ":"), allow_nan=False)
    assert head.endswith("}")
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases]
    return head[:-1] + ',"cases":[\n' + ",\n".join(lines) + "\n]}\n"


def verify(text, cases):
    """Every float must parse back to the exact double that was recorded."""
    back = json.loads(text)
    assert len(back["cases"]) == len(cases)
    for c, b in zip(cases, back["cases"]):
        assert b["steps"] == c["steps"] == len(c["lr"][0])
        for g_orig, g_back in zip(c["lr"], b["lr"]):
            assert len(g_orig) == len(g_back)
            for x, y in zip(g_orig, g_back):
                assert type(y) is float and (x == y) and math.copysign(1, x) == math.copysign(1, y), (x, y)


FILES = [
    ("chained_scheduler.json", build_chained),
    ("torch_resume_last_epoch.json", build_resume),
    ("hf_schedules.json", build_hf),
    ("deepspeed_schedules.json", build_deepspeed),
]


def main(argv):
    check = "--check" in argv
    ok = True
    for fname, builder in FILES:
        header, cases = builder()
        text = dumps(header, cases)
        verify(text, cases)
        path = os.path.join(HERE, fname)
        nvals = sum(len(g) for c in cases for g in c["lr"])
        if check:
            with open(path, "r", encoding="utf-8") as f:
                same = f.read() == text
            ok = ok and same
            print(f"{fname}: {'identical' if same else 'DIFFERENT'} ({len(cases)} cases, {nvals} values)")
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"{fname}: {len(cases)} cases, {nvals} values, {len(text.encode())} bytes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
