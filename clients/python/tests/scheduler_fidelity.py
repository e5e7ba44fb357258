"""Spec fidelity: builds real torch schedulers (every class trainwatch supports, several parameterisations each, fresh,
mid-run and resumed), records torch's own LR sequence and the spec trainwatch_client declares for it, and prints
them as JSON. io.trainwatch.schedule.TorchSchedulerSpecITCase runs this and checks every LR against the Java
schedule engine.

    /usr/bin/python3 clients/python/tests/scheduler_fidelity.py > cases.json

Index meaning: lr[g][i] = optimizer.param_groups[g]["lr"] read just before the i-th optimizer.step() after the
spec was taken, which trainwatch must give for reported step first_step + i. The loop steps the scheduler the
way the case declares (every step, or once per epoch).
"""

import functools
import importlib.util
import json
import math
import os
import sys
import warnings

import torch
from torch.optim import SGD, Adam
from torch.optim import lr_scheduler as L

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from trainwatch_client import Reporter, named_lambda, spec_from_scheduler  # noqa: E402

# transformers' lambdas and get_* factories as this repository transcribed them (no transformers package here)
_REF = os.path.join(HERE, "..", "..", "..", "src", "test", "resources", "reference", "generate_reference.py")
_spec = importlib.util.spec_from_file_location("transformers_transcribed", _REF)
hf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hf)

warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def sgd(base_lrs, momentum=0.9):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in base_lrs]
    opt = SGD(params, lr=base_lrs[0], momentum=momentum)
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.zeros_like(p)
    return opt


def adam(base_lrs):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in base_lrs]
    opt = Adam(params, lr=base_lrs[0])
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.zeros_like(p)
    return opt


def run(opt, sched, steps, every=1, first_step=0, metrics=None):
    """Records the LRs of `steps` optimizer steps numbered first_step.., stepping the scheduler every `every` steps."""
    lrs = [[] for _ in opt.param_groups]
    for i in range(steps):
        for g, group in enumerate(opt.param_groups):
            lrs[g].append(float(group["lr"]))
        opt.step()
        if (first_step + i + 1) % every == 0:
            if metrics is not None:
                sched.step(metrics[(first_step + i) // every])
            else:
                sched.step()
    return lrs


CASES = []


def case(name, cls, opt, sched, steps, spec=None, warm=0, every=1, adaptive=False, metrics=None):
    """`warm` steps run before the spec is taken (a mid-run spec); the recorded steps are numbered from 0."""
    if warm:
        run(opt, sched, warm, every, metrics=metrics)
        metrics = metrics[warm // every:] if metrics is not None else None
    spec = spec if spec is not None else spec_from_scheduler(sched)
    lrs = run(opt, sched, steps, every, metrics=metrics)
    CASES.append({"name": name, "class": cls, "spec": spec, "first_step": 0, "adaptive": adaptive, "steps": steps, "lr": lrs})


def reporter_case(name, cls, opt, sched, steps, first_step, every=1, **run_start):
    """The spec as the Reporter declares it (interval, resume shift), for reported steps first_step.."""
    events = []
    r = Reporter(run_id=name, sink=lambda k, v: events.append(json.loads(v)))
    r.run_start(opt, sched, **run_start)
    lrs = [[] for _ in opt.param_groups]
    for i in range(steps):
        for g, group in enumerate(opt.param_groups):
            lrs[g].append(float(group["lr"]))
        if i == 0:
            r.step(first_step, 1.0, opt)
        opt.step()
        if (first_step + i + 1) % every == 0:
            sched.step()
    r.close()
    spec = next(e for e in events if e["type"] == "run_start")["schedule"]
    CASES.append({"name": name, "class": cls, "spec": spec, "first_step": first_step, "adaptive": False, "steps": steps, "lr": lrs})


def resumed(make, base_lrs, warm, opt_factory=sgd):
    """A checkpoint resume as PyTorch does it: run `warm` steps, save optimizer and scheduler state, build both anew
    and load the state."""
    opt = opt_factory(base_lrs)
    sched = make(opt)
    run(opt, sched, warm)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    opt2 = opt_factory(base_lrs)
    sched2 = make(opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    return opt2, sched2


def built_with_last_epoch(make, base_lrs, last_epoch):
    """A resume as the spec format words it: the scheduler built with last_epoch=L on an optimizer whose groups
    hold initial_lr and the LR an uninterrupted run has at index L."""
    ref_opt = sgd(base_lrs)
    ref = make(ref_opt, -1)
    run(ref_opt, ref, last_epoch)
    opt = sgd(base_lrs)
    for g, rg in zip(opt.param_groups, ref_opt.param_groups):
        for k in ("lr", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum", "momentum"):
            if k in rg:
                g[k] = rg[k]
    return opt, make(opt, last_epoch)


def build():
    # --- StepLR
    o = sgd([0.1]); case("step_30_g0.1", "StepLR", o, L.StepLR(o, 30, 0.1), 200)
    o = sgd([0.1, 0.01]); case("step_7_g0.5_2groups", "StepLR", o, L.StepLR(o, 7, gamma=0.5), 120)
    o, s = built_with_last_epoch(lambda opt, le: L.StepLR(opt, 30, 0.1, last_epoch=le), [0.1], 45)
    case("step_30_built_with_last_epoch_45", "StepLR", o, s, 100)
    o, s = resumed(lambda opt: L.StepLR(opt, 25, 0.3), [0.05], 60)
    case("step_25_resumed_from_state_dict_at_60", "StepLR", o, s, 100)
    # --- MultiStepLR
    o = sgd([0.1]); case("multistep_30_80", "MultiStepLR", o, L.MultiStepLR(o, [30, 80], 0.1), 150)
    o = sgd([0.1, 0.02]); case("multistep_repeated_20_20_50_g0.5_2groups", "MultiStepLR", o, L.MultiStepLR(o, [50, 20, 20], 0.5), 100)
    o = sgd([0.1]); case("multistep_10_40_midrun_after_25", "MultiStepLR", o, L.MultiStepLR(o, [10, 40], 0.2), 60, warm=25)
    # --- ExponentialLR
    o = sgd([0.1]); case("exponential_0.97", "ExponentialLR", o, L.ExponentialLR(o, 0.97), 300)
    o = sgd([0.1, 0.3]); case("exponential_0.9_2groups_midrun_after_20", "ExponentialLR", o, L.ExponentialLR(o, 0.9), 100, warm=20)
    o, s = built_with_last_epoch(lambda opt, le: L.ExponentialLR(opt, 0.95, last_epoch=le), [0.1], 20)
    case("exponential_0.95_built_with_last_epoch_20", "ExponentialLR", o, s, 100)
    o, s = built_with_last_epoch(lambda opt, le: L.ExponentialLR(opt, 0.9, last_epoch=le), [0.1, 0.05], 20)
    case("exponential_0.9_built_with_last_epoch_20_midrun_after_5_2groups", "ExponentialLR", o, s, 60, warm=5)
    # --- ConstantLR
    o = sgd([0.1]); case("constant_0.5_10", "ConstantLR", o, L.ConstantLR(o, 0.5, 10), 40)
    o = sgd([0.1, 0.01]); case("constant_0.25_total0_never_restores_2groups", "ConstantLR", o, L.ConstantLR(o, 0.25, total_iters=0), 20)
    o = sgd([0.1]); case("constant_default_third_5", "ConstantLR", o, L.ConstantLR(o), 20)
    # --- LinearLR
    o = sgd([0.1]); case("linear_0.01_to_1_50", "LinearLR", o, L.LinearLR(o, 0.01, 1.0, 50), 100)
    o = sgd([0.1, 0.05]); case("linear_1_to_0.1_100_2groups", "LinearLR", o, L.LinearLR(o, 1.0, 0.1, 100), 150)
    o = sgd([0.1]); case("linear_default_midrun_after_3", "LinearLR", o, L.LinearLR(o), 20, warm=3)
    o, s = built_with_last_epoch(lambda opt, le: L.LinearLR(opt, 0.01, 1.0, 50, last_epoch=le), [0.1, 0.02], 20)
    case("linear_0.01_to_1_50_built_with_last_epoch_20_2groups", "LinearLR", o, s, 80)
    o, s = built_with_last_epoch(lambda opt, le: L.LinearLR(opt, 1.0, 0.0, 30, last_epoch=le), [0.1], 29)
    case("linear_1_to_0_30_built_with_last_epoch_29_at_the_end", "LinearLR", o, s, 20)
    # --- PolynomialLR
    o = sgd([0.1]); case("polynomial_100_p2", "PolynomialLR", o, L.PolynomialLR(o, 100, 2.0), 150)
    o = sgd([0.1, 0.2]); case("polynomial_50_p0.5_2groups", "PolynomialLR", o, L.PolynomialLR(o, total_iters=50, power=0.5), 80)
    o, s = built_with_last_epoch(lambda opt, le: L.PolynomialLR(opt, 100, 2.0, last_epoch=le), [0.1], 40)
    case("polynomial_100_p2_built_with_last_epoch_40", "PolynomialLR", o, s, 100)
    o, s = built_with_last_epoch(lambda opt, le: L.PolynomialLR(opt, 50, 1.0, last_epoch=le), [0.1], 49)
    case("polynomial_50_p1_built_with_last_epoch_49_at_the_end", "PolynomialLR", o, s, 20)
    # --- CosineAnnealingLR (past T_max it rises again, period 2 T_max)
    o = sgd([0.1]); case("cosine_100_eta1e-4_past_tmax", "CosineAnnealingLR", o, L.CosineAnnealingLR(o, 100, 1e-4), 300)
    o = sgd([0.1, 0.01]); case("cosine_50_2groups", "CosineAnnealingLR", o, L.CosineAnnealingLR(o, 50), 120)
    o = sgd([0.1]); case("cosine_200_midrun_after_37", "CosineAnnealingLR", o, L.CosineAnnealingLR(o, 200, 1e-5), 200, warm=37)
    o, s = built_with_last_epoch(lambda opt, le: L.CosineAnnealingLR(opt, 100, 1e-4, last_epoch=le), [0.1, 0.01], 37)
    case("cosine_100_built_with_last_epoch_37_2groups", "CosineAnnealingLR", o, s, 150)
    o, s = built_with_last_epoch(lambda opt, le: L.CosineAnnealingLR(opt, 20, 1e-3, last_epoch=le), [0.1], 25)
    case("cosine_20_built_with_last_epoch_25_past_tmax_to_next_minimum", "CosineAnnealingLR", o, s, 80)
    o, s = built_with_last_epoch(lambda opt, le: L.CosineAnnealingLR(opt, 100, 1e-4, last_epoch=le), [0.1], 37)
    case("cosine_100_built_with_last_epoch_37_midrun_after_10", "CosineAnnealingLR", o, s, 100, warm=10)
    o, s = built_with_last_epoch(lambda opt, le: L.CosineAnnealingLR(opt, 100, 1e-4, last_epoch=le), [0.1], 37)
    reporter_case("reporter_built_with_last_epoch_37_global_steps_from_38", "CosineAnnealingLR", o, s, 100, 38)
    o, s = resumed(lambda opt: L.CosineAnnealingLR(opt, 300, 1e-5), [0.02], 120)
    case("cosine_300_resumed_from_state_dict_at_120", "CosineAnnealingLR", o, s, 180)
    # --- CosineAnnealingWarmRestarts
    o = sgd([0.1]); case("warm_restarts_T0_10_Tmult_2", "CosineAnnealingWarmRestarts", o, L.CosineAnnealingWarmRestarts(o, 10, 2, 1e-5), 320)
    o = sgd([0.1, 0.01]); case("warm_restarts_T0_25_2groups", "CosineAnnealingWarmRestarts", o, L.CosineAnnealingWarmRestarts(o, 25), 130)
    o = sgd([0.1]); case("warm_restarts_T0_7_Tmult_3", "CosineAnnealingWarmRestarts", o, L.CosineAnnealingWarmRestarts(o, 7, T_mult=3), 300)
    o = sgd([0.1]); case("warm_restarts_T0_10_Tmult_2_midrun_after_55", "CosineAnnealingWarmRestarts", o,
                         L.CosineAnnealingWarmRestarts(o, 10, 2, 1e-4), 200, warm=55)
    # --- CyclicLR (built-in modes)
    o = sgd([0.1]); case("cyclic_triangular_20_30", "CyclicLR", o, L.CyclicLR(o, 0.001, 0.01, 20, 30), 200)
    o = sgd([0.1]); case("cyclic_triangular2_15", "CyclicLR", o, L.CyclicLR(o, 0.001, 0.01, 15, mode="triangular2"), 200)
    o = sgd([0.1, 0.1]); case("cyclic_exp_range_g0.99_10_2groups", "CyclicLR", o,
                              L.CyclicLR(o, [0.001, 0.0005], [0.01, 0.002], 10, 10, mode="exp_range", gamma=0.99), 150)
    o = adam([0.1]); case("cyclic_triangular_7.5_no_momentum_midrun_after_11", "CyclicLR", o,
                          L.CyclicLR(o, 1e-4, 1e-3, 7.5, cycle_momentum=False), 60, warm=11)
    # --- OneCycleLR
    o = sgd([0.1]); case("onecycle_0.1_total300", "OneCycleLR", o, L.OneCycleLR(o, 0.1, total_steps=300), 300)
    o = sgd([0.1]); case("onecycle_three_phase_pct0.25_linear", "OneCycleLR", o,
                         L.OneCycleLR(o, 0.05, total_steps=200, pct_start=0.25, anneal_strategy="linear", three_phase=True), 200)
    o = sgd([0.1, 0.1]); case("onecycle_2groups_div10_final100_epochs", "OneCycleLR", o,
                              L.OneCycleLR(o, [0.1, 0.01], epochs=6, steps_per_epoch=25, div_factor=10, final_div_factor=100), 150)
    o = adam([0.1]); case("onecycle_adam_three_phase_pct0.3_midrun_after_40", "OneCycleLR", o,
                          L.OneCycleLR(o, 3e-3, total_steps=137, pct_start=0.3, three_phase=True), 97, warm=40)
    o, s = built_with_last_epoch(lambda opt, le: L.OneCycleLR(opt, 0.1, total_steps=300, last_epoch=le), [0.1], 100)
    case("onecycle_built_with_last_epoch_100", "OneCycleLR", o, s, 199)
    # --- LambdaLR: Hugging Face lambdas (functools.partial, as transformers builds them)
    o = sgd([5e-5]); case("hf_linear_w30_t300", "LambdaLR", o, hf.get_linear_schedule_with_warmup(o, 30, 300)[0], 330)
    o = sgd([3e-4]); case("hf_cosine_w20_t300", "LambdaLR", o, hf.get_cosine_schedule_with_warmup(o, 20, 300)[0], 350)
    o = sgd([1e-3, 1e-4]); case("hf_cosine_restarts_w10_t300_c3_2groups", "LambdaLR", o,
                                hf.get_cosine_with_hard_restarts_schedule_with_warmup(o, 10, 300, num_cycles=3)[0], 320)
    o = sgd([1e-3, 1e-2]); case("hf_polynomial_w20_t300_end1e-5_p2_2groups", "LambdaLR", o,
                                hf.get_polynomial_decay_schedule_with_warmup(o, 20, 300, lr_end=1e-5, power=2.0)[0], 330)
    o = sgd([0.01]); case("hf_constant", "LambdaLR", o, hf.get_constant_schedule(o)[0], 30)
    o = sgd([1e-3]); case("hf_constant_with_warmup_w25", "LambdaLR", o, hf.get_constant_schedule_with_warmup(o, 25)[0], 60)
    o = sgd([1e-3]); case("hf_inverse_sqrt_w50", "LambdaLR", o, hf.get_inverse_sqrt_schedule(o, 50)[0], 300)
    o = sgd([1e-3]); case("hf_cosine_with_min_lr_w10_t300_min1e-5", "LambdaLR", o,
                          hf.get_cosine_with_min_lr_schedule_with_warmup(o, 10, 300, min_lr=1e-5)[0], 320)
    o = sgd([1e-3]); case("hf_wsd_w20_d60_t300_cosine_linear_min0.1", "LambdaLR", o,
                          hf.get_wsd_schedule(o, 20, 60, num_training_steps=300, warmup_type="cosine", decay_type="linear",
                                              min_lr_ratio=0.1)[0], 320)
    try:  # real transformers where installed (the torch 2.x environments): every lr_scheduler_type trainwatch declares
        from transformers import get_scheduler as real_hf_scheduler
    except ImportError:
        real_hf_scheduler = None
    if real_hf_scheduler is not None:
        import transformers
        v = transformers.__version__
        for typ, kw in [("linear", {}), ("cosine", {}), ("cosine_with_restarts", {"num_cycles": 3}), ("polynomial", {"power": 2.0, "lr_end": 1e-5}),
                        ("constant_with_warmup", {}), ("inverse_sqrt", {}), ("cosine_with_min_lr", {"min_lr": 1e-5}),
                        ("cosine_warmup_with_min_lr", {"min_lr_rate": 0.1}), ("cosine_warmup_with_min_lr", {"min_lr": 2e-5, "warmup_lr_rate": 0.05}),
                        ("warmup_stable_decay", {"num_decay_steps": 60, "min_lr_ratio": 0.1})]:
            o = sgd([1e-3])
            s = real_hf_scheduler(typ, o, num_warmup_steps=20, num_training_steps=300, scheduler_specific_kwargs=dict(kw))
            case("transformers_%s_%s_%s" % (v, typ, "_".join("%s%s" % kv for kv in sorted(kw.items()))), "LambdaLR", o, s, 320)
    o = sgd([3e-4]); case("hf_cosine_w20_t300_midrun_after_150", "LambdaLR", o, hf.get_cosine_schedule_with_warmup(o, 20, 300)[0], 150, warm=150)
    o = sgd([5e-5]); case("hf_linear_closure_older_transformers", "LambdaLR", o, L.LambdaLR(o, older_hf_linear(o, 15, 200)), 220)
    # --- LambdaLR: the YOLO lambdas, one per group
    o = sgd([0.01]); case("yolov5_one_cycle_e300_lrf0.01", "LambdaLR", o, L.LambdaLR(o, named_lambda("yolov5_one_cycle", epochs=300, lrf=0.01)), 320)
    o = sgd([0.01, 0.02]); case("yolo_per_group_linear_and_cosine", "LambdaLR", o,
                                L.LambdaLR(o, [named_lambda("yolov5_linear", epochs=100, lrf=0.1),
                                               named_lambda("yolov3_spp_cosine", epochs=100, lrf=0.05)]), 100)
    o = sgd([0.01]); case("yolov3_spp_warmup_50", "LambdaLR", o, L.LambdaLR(o, named_lambda("yolov3_spp_warmup", warmup_iters=50, warmup_factor=0.1)), 80)
    # --- SequentialLR
    o = sgd([0.1]); case("sequential_linear20_cosine280", "SequentialLR", o,
                         L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=20), L.CosineAnnealingLR(o, 280, 1e-5)], [20]), 320)
    o = sgd([0.1, 0.01]); case("sequential_constant10_exponential_2groups", "SequentialLR", o,
                               L.SequentialLR(o, [L.ConstantLR(o, 0.5, 10), L.ExponentialLR(o, 0.98)], [10]), 100)
    o = sgd([0.1]); case("sequential_three_children_linear_step_cosine", "SequentialLR", o,
                         L.SequentialLR(o, [L.LinearLR(o, 0.2, total_iters=15), L.StepLR(o, 20, 0.5), L.CosineAnnealingLR(o, 50)], [15, 75]), 200)
    o = sgd([0.1]); case("sequential_linear20_cosine280_midrun_after_30", "SequentialLR", o,
                         L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=20), L.CosineAnnealingLR(o, 280)], [20]), 200, warm=30)
    # --- ChainedScheduler
    o = sgd([0.1]); case("chained_linear_exponential", "ChainedScheduler", o,
                         L.ChainedScheduler([L.LinearLR(o, 0.1, 1.0, 10), L.ExponentialLR(o, 0.99)]), 150)
    o = sgd([0.1, 0.01]); case("chained_multistep_constant_2groups", "ChainedScheduler", o,
                               L.ChainedScheduler([L.MultiStepLR(o, [50, 100], 0.1), L.ConstantLR(o, 0.5, 20)]), 150)
    o = sgd([0.1]); case("chained_linear_cosine50_past_tmax", "ChainedScheduler", o,
                         L.ChainedScheduler([L.LinearLR(o, 0.1, total_iters=10), L.CosineAnnealingLR(o, 50)]), 150)
    # --- ReduceLROnPlateau: adaptive, the LR must stay in the range the engine allows
    metric = [1.0 / (1 + i) for i in range(20)] + [0.05] * 80 + [0.04] + [0.04] * 99
    o = sgd([0.1]); case("plateau_min_f0.5_p5_minlr1e-3", "ReduceLROnPlateau", o,
                         L.ReduceLROnPlateau(o, factor=0.5, patience=5, min_lr=1e-3), 200, adaptive=True, metrics=metric)
    o = sgd([0.1, 0.01]); case("plateau_max_f0.1_p3_cooldown2_2groups_per_epoch", "ReduceLROnPlateau", o,
                               L.ReduceLROnPlateau(o, mode="max", factor=0.1, patience=3, cooldown=2), 300, adaptive=True, every=10,
                               metrics=[0.5] * 30, spec=None)
    CASES[-1]["spec"] = dict(CASES[-1]["spec"], interval="epoch", steps_per_epoch=10)
    # --- how the Reporter declares it: per-epoch stepping, and a resumed run reporting global step numbers
    o = sgd([0.1]); reporter_case("reporter_step_per_epoch_10", "StepLR", o, L.StepLR(o, 3, 0.5), 100, 0, every=10,
                                  interval="epoch", steps_per_epoch=10)
    o, s = resumed(lambda opt: L.CosineAnnealingLR(opt, 400, 1e-5), [0.05], 150)
    reporter_case("reporter_resumed_global_steps_from_150", "CosineAnnealingLR", o, s, 200, 150)
    o, s = resumed(lambda opt: L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=20), L.CosineAnnealingLR(opt, 280)], [20]), [0.1], 90)
    reporter_case("reporter_resumed_sequential_from_90", "SequentialLR", o, s, 150, 90)
    o, s = resumed(lambda opt: L.ExponentialLR(opt, 0.9), [0.1], 4)
    reporter_case("reporter_resumed_per_epoch_from_epoch_4", "ExponentialLR", o, s, 60, 40, every=10, interval="epoch", steps_per_epoch=10)
    o = sgd([0.1]); reporter_case("reporter_frequency_3", "StepLR", o, L.StepLR(o, 2, 0.5), 40, 0, every=3, frequency=3)


def older_hf_linear(optimizer, num_warmup_steps, num_training_steps):
    """transformers before 4.32 (closure inside the factory), transcribed."""
    def get_linear_schedule_with_warmup():
        def lr_lambda(current_step: int):
            if current_step < num_warmup_steps:
                return float(current_step) / float(max(1, num_warmup_steps))
            return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))
        return lr_lambda
    return get_linear_schedule_with_warmup()


def main():
    build()
    json.dump({"torch_version": torch.__version__, "cases": CASES}, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
