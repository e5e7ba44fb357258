#!/usr/bin/env python3
"""Replays every real-torch golden case with the torch this interpreter has, and writes the LRs it gives.

The cases (scheduler, every constructor argument, base_lrs, steps, stepping) are read from the recorded files
themselves, ../shared/golden/schedules/*.json (torch 1.13.1, made by tools/golden_schedules.py, which is not in this
repository) and this repository's src/test/resources/reference/{chained_scheduler,torch_resume_last_epoch}.json
(generate_reference.py); the loop and the optimizer are the ones their READMEs describe:

    opt = SGD([{'params': [zero param with zero grad], 'lr': base_lrs[g]} ...], lr=base_lrs[0], momentum=m)
    sched = <constructed on opt>                       # resume cases: group state put in first, last_epoch=L
    for i in range(steps):
        lr[g][i] = opt.param_groups[g]['lr']; opt.step()
        if (i + 1) % scheduler_step_every == 0: sched.step()

    /usr/bin/python3 replay_golden.py --check-recorded          # torch 1.13: must give every recorded value bit for bit
    .venvs/torch2-tf5/bin/python replay_golden.py --out DIR      # torch 2.x: writes DIR/<same file names>.json

The first command is what makes the replay trustworthy: with the torch that recorded the files it reproduces all of
them exactly, so any difference under another torch is torch's.
"""

import functools
import glob
import importlib.util
import json
import math
import os
import sys
import warnings

import torch
from torch.optim import lr_scheduler as L

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
SHARED_GOLDEN = os.path.normpath(os.path.join(REPO, "..", "shared", "golden", "schedules"))
REFERENCE = os.path.join(REPO, "src", "test", "resources", "reference")
GENERATOR = "src/test/resources/golden-torch2/replay_golden.py"

sys.path.insert(0, os.path.join(REPO, "clients", "python"))
from trainwatch_client import named_lambda  # noqa: E402  (the YOLO lambdas, same operation order as recorded)
from trainwatch_client.spec import _constructor_keeps_lr, _KEEPS_LR_CANDIDATES  # noqa: E402

_spec = importlib.util.spec_from_file_location("generate_reference", os.path.join(REFERENCE, "generate_reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

# not constructor arguments: what the recorders wrote next to them
RECORD_ONLY = {"base_lrs", "effective", "scheduler_base_lrs", "optimizer_momentum", "formula", "resume_group_state"}

HF_LAMBDAS = {
    "hf_linear_with_warmup": ref._get_linear_schedule_with_warmup_lr_lambda,
    "hf_cosine_with_warmup": ref._cosine_lambda_first_definition,
    "hf_cosine_with_hard_restarts_with_warmup": ref._get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda,
    "hf_polynomial_decay_with_warmup": ref._get_polynomial_decay_schedule_with_warmup_lr_lambda,
    "hf_inverse_sqrt": ref._get_inverse_sqrt_schedule_lr_lambda,
    "hf_constant_with_warmup": ref._get_constant_schedule_with_warmup_lr_lambda,
}


def lr_lambda(spec):
    if isinstance(spec, list):
        return [lr_lambda(s) for s in spec]
    args = {k: v for k, v in spec.items() if k not in ("name", "formula", "transformers_function")}
    if spec["name"] in HF_LAMBDAS:
        return functools.partial(HF_LAMBDAS[spec["name"]], **args)
    return named_lambda(spec["name"], **args)


def build(name, params, opt):
    kw = {k: v for k, v in params.items() if k not in RECORD_ONLY}
    if name in ("SequentialLR", "ChainedScheduler"):
        children = [build(c["scheduler"], c["params"], opt) for c in kw.pop("schedulers")]
        if name == "ChainedScheduler":
            return L.ChainedScheduler(children)
        return L.SequentialLR(opt, children, **kw)
    if name == "LambdaLR":
        kw["lr_lambda"] = lr_lambda(kw["lr_lambda"])
    return getattr(L, name)(opt, **kw)


def replay(case):
    p = case["params"]
    base = p["base_lrs"]
    momentum = p.get("optimizer_momentum", 0.0)
    opt = ref.make_sgd(base, momentum)
    for group, state in zip(opt.param_groups, p.get("resume_group_state", [])):
        group.update(state)  # a resume: the group as the uninterrupted run left it after last_epoch steps
    every = case.get("scheduler_step_every", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(case["scheduler"], p, opt)
        lrs = [[] for _ in base]
        for i in range(case["steps"]):
            for g, group in enumerate(opt.param_groups):
                assert type(group["lr"]) is float, type(group["lr"])
                lrs[g].append(group["lr"])
            opt.step()
            if (i + 1) % every == 0:
                sched.step()
    return lrs


def torch_files():
    """(file name, parsed file) of every recorded real-torch file."""
    out = []
    for path in sorted(glob.glob(os.path.join(SHARED_GOLDEN, "*.json"))) + [
            os.path.join(REFERENCE, "chained_scheduler.json"), os.path.join(REFERENCE, "torch_resume_last_epoch.json")]:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if str(d.get("source", "")).startswith("torch-"):
            out.append((os.path.basename(path), d))
    return out


def bits(x):
    return x.hex()


def main(argv):
    check = "--check-recorded" in argv
    out_dir = argv[argv.index("--out") + 1] if "--out" in argv else None
    if not check and out_dir is None:
        print(__doc__)
        return 2
    source = "torch-" + torch.__version__.split("+")[0]
    total_cases = total_values = differing_cases = 0
    summary = []
    for fname, d in torch_files():
        cases = []
        file_diffs = []
        for c in d["cases"]:
            lrs = replay(c)
            recorded = c["lr"]
            diff = [(g, i) for g in range(len(lrs)) for i in range(len(lrs[g])) if bits(lrs[g][i]) != bits(recorded[g][i])]
            if check:
                assert not diff, "%s/%s differs from the recording at (group, index) %s" % (fname, c["name"], diff[:3])
            worst = max((abs(lrs[g][i] - recorded[g][i]) / (1e-12 + 1e-9 * abs(recorded[g][i])) for g, i in diff), default=0.0)
            if diff:
                file_diffs.append((c["name"], len(diff), worst))
            # what the recording said of its own torch's values (notes, the resume offset it measured) is left out
            new = {k: v for k, v in c.items() if k not in ("lr", "torch_warnings", "source", "note") and not k.startswith("uninterrupted_")}
            built = c["params"].get("last_epoch", -1)
            if built >= 0 and c["scheduler"] in _KEEPS_LR_CANDIDATES and _constructor_keeps_lr(c["scheduler"]):
                # this torch's constructor kept the optimizer's LR: the spec says so, as the client declares it
                new["params"] = dict(c["params"], kept_lr_at_last_epoch=built)
            new["source"] = source
            # tol_ratio: max |this - recorded| / (1e-12 + 1e-9 |recorded|), the golden tolerance; above 1, torch changed
            new["note"] = ("every value bit-identical to the %s recording" % d["source"] if not diff else
                           "%d values differ from the %s recording, tol_ratio %.3g" % (len(diff), d["source"], worst))
            new["lr"] = lrs
            cases.append(new)
            total_cases += 1
            total_values += sum(len(g) for g in lrs)
        differing_cases += len(file_diffs)
        summary.append((fname, len(cases), sum(len(g) for c in cases for g in c["lr"]), file_diffs))
        if out_dir:
            header = {k: v for k, v in d.items() if k not in ("cases", "torch_warnings", "construction", "variant")}
            header.update({"source": source, "torch_version_string": torch.__version__,
                           "torch_package": "torch %s from the configured pip index (clients/python/install-frameworks.sh)" % torch.__version__,
                           "construction": "as the recording's (replayed_from): same optimizer, scheduler arguments, group state and loop",
                           "python": "%d.%d.%d" % sys.version_info[:3], "generator": GENERATOR,
                           "replayed_from": d.get("generator", "") + " (" + d["source"] + ")"})
            text = ref.dumps(header, cases)
            ref.verify(text, cases)
            with open(os.path.join(out_dir, fname), "w", encoding="utf-8") as f:
                f.write(text)
    for fname, n, vals, diffs in summary:
        print("%s: %d cases, %d values%s" % (fname, n, vals, "".join(
            "\n    differs: %s (%d values, tol_ratio %.3g)" % x for x in diffs)))
    print("torch %s: %d cases, %d values, %d cases differ from the recording%s" % (
        torch.__version__, total_cases, total_values, differing_cases, " (checked: none may)" if check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
