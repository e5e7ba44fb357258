"""Real Hugging Face Trainer runs reported with trainwatch_client.hf.TrainwatchCallback, one process for all scenarios
(importing transformers takes seconds). A tiny MLP on synthetic data, CPU, a few dozen optimizer steps each.

For every scenario it records the truth next to what the callback sent: the LR of every param group the torch
optimizer really used at each optimizer step (a step pre-hook on the optimizer under accelerate's wrapper) and the
loss HF itself logged (on_log), keyed by the 0-based optimizer step. One line per scenario on stdout:
``SCENARIO {json}``. The "crash" scenario's exception is re-raised at the very end, uncaught, so that the process dies
of it as a crashed training script does (exit code 1): its run_end "failed" is sent while the interpreter shuts down.

    python hf_runs.py --bootstrap-servers localhost:9092 --topic trainwatch.events --prefix tf5
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings

import torch
from torch import nn
from torch.optim import lr_scheduler as L

import transformers
from transformers import Trainer, TrainerCallback, TrainingArguments, get_cosine_schedule_with_warmup

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from trainwatch_client import JsonLinesSink, spec_from_scheduler  # noqa: E402
from trainwatch_client.hf import TrainwatchCallback  # noqa: E402

FEATURES = 8
NAN_STEP = 17   # nan_batch: the batch of this optimizer step has NaN inputs
CRASH_STEP = 12  # crash: the model raises in the forward of this optimizer step


class MLP(nn.Module):
    """Returns {"loss": ...} as the Trainer expects of a model given labels."""

    def __init__(self, raise_at_call=None):
        super().__init__()
        self.l1 = nn.Linear(FEATURES, 16)
        self.l2 = nn.Linear(16, 1)
        self.calls = 0
        self.raise_at_call = raise_at_call

    def forward(self, x, y):
        if self.training:
            if self.calls == self.raise_at_call:
                raise RuntimeError("simulated crash in the forward of training call %d" % self.calls)
            self.calls += 1
        pred = self.l2(torch.relu(self.l1(x))).squeeze(-1)
        return {"loss": nn.functional.mse_loss(pred.float(), y)}


class Regression(torch.utils.data.Dataset):
    def __init__(self, n=64, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, FEATURES, generator=g)
        self.y = self.x @ torch.linspace(-1, 1, FEATURES) + 0.1 * torch.randn(n, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "y": self.y[i]}


class CorruptBatch:
    """A data collator that makes batch number ``bad`` (in the order the loader draws them) all NaN: a corrupt shard."""

    def __init__(self, bad):
        self.bad = bad
        self.drawn = 0

    def __call__(self, features):
        batch = {k: torch.stack([f[k] for f in features]) for k in features[0]}
        if self.drawn == self.bad:
            batch["x"] = torch.full_like(batch["x"], float("nan"))
        self.drawn += 1
        return batch


class Truth(TrainerCallback):
    """What really happened: the LRs the torch optimizer used at each step, and the loss HF logged."""

    def __init__(self):
        self.lr, self.loss, self.skipped, self.scale = {}, {}, [], {}
        self._state = None
        self._hooked = None

    def on_train_begin(self, args, state, control, optimizer=None, **kwargs):
        self._state = state
        inner = optimizer
        while hasattr(inner, "optimizer") and inner.optimizer is not inner:
            inner = inner.optimizer  # accelerate's AcceleratedOptimizer
        if inner is not self._hooked:
            inner.register_step_pre_hook(self._pre_step)
            self._hooked = inner

    def _pre_step(self, optimizer, args, kwargs):
        self.lr[int(self._state.global_step)] = [g["lr"] for g in optimizer.param_groups]

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        scaler = getattr(optimizer, "scaler", None)
        if scaler is not None:
            self.scale[int(state.global_step)] = scaler.get_scale()
        self._lr_before = [g["lr"] for g in optimizer.param_groups]

    def on_step_end(self, args, state, control, optimizer=None, **kwargs):
        step = int(state.global_step) - 1
        if getattr(optimizer, "step_was_skipped", False):
            self.skipped.append(step)
            self.lr.setdefault(step, self._lr_before)  # the GradScaler skipped optimizer.step(): no pre-hook call

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.loss[int(state.global_step) - 1] = logs["loss"]


class StopAt(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True


class StepPerEpoch:
    """A team's port of its epoch loop: the scheduler HF steps after every optimizer step really moves once per epoch."""

    def __init__(self, scheduler, steps_per_epoch):
        self.scheduler, self.every, self.calls = scheduler, steps_per_epoch, 0

    def step(self):
        self.calls += 1
        if self.calls % self.every == 0:
            self.scheduler.step()

    def get_last_lr(self):
        return self.scheduler.get_last_lr()

    def state_dict(self):
        return self.scheduler.state_dict()

    def load_state_dict(self, sd):
        self.scheduler.load_state_dict(sd)


def base_args(out, run_id, **kw):
    a = dict(output_dir=out, run_name=run_id, per_device_train_batch_size=8, learning_rate=1e-2, max_steps=40, logging_steps=1,
             logging_nan_inf_filter=False, report_to="none", save_strategy="no", disable_tqdm=True, use_cpu=True, seed=0,
             dataloader_num_workers=0, max_grad_norm=1.0, warmup_steps=5, lr_scheduler_type="cosine")
    a.update(kw)
    return TrainingArguments(**a)


def callback(servers, topic, **kw):
    """Kafka, or with --bootstrap-servers jsonl:FILE one JSON event per line (to try the scenarios without a broker)."""
    if servers.startswith("jsonl:"):
        return TrainwatchCallback(sink=JsonLinesSink(servers[len("jsonl:"):]), **kw)
    return TrainwatchCallback(servers, topic=topic, **kw)


def run(name, run_id, servers, topic, build, expect, resume_parts=1):
    """Trains the scenario ``build`` describes and prints its summary line; returns the exception training raised."""
    started = time.time()
    truth = Truth()
    caught = []
    raised = None
    callbacks = []
    logged = []  # (step, loss) of each training-loss record of HF's log_history: trainer_state.json as HF writes it
    for part in range(resume_parts):
        tw = callback(servers, topic)
        callbacks.append(tw)
        trainer, train_kwargs = build(part, [tw, truth])
        callbacks[-1:] = [c for c in trainer.callback_handler.callbacks if isinstance(c, TrainwatchCallback)]  # per_epoch swaps its own in
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                trainer.train(**train_kwargs)
            except Exception as e:  # noqa: BLE001 - the crash scenario
                raised = e
        logged += [[h["step"], h["loss"]] for h in trainer.state.log_history if "loss" in h and "step" in h]
        caught += [str(x.message) for x in w if str(x.message).startswith("trainwatch:")]
    summary = {"scenario": name, "run_id": run_id, "transformers": transformers.__version__, "torch": torch.__version__,
               "lr": {str(k): v for k, v in sorted(truth.lr.items())}, "loss": {str(k): v for k, v in sorted(truth.loss.items())},
               "skipped": truth.skipped, "hf_log_history": logged, "scale": {str(k): v for k, v in sorted(truth.scale.items())},
               "warnings": caught, "client_errors": sum(getattr(c, "client_errors", 0) for c in callbacks),
               "declared_from": [c.declared_from for c in callbacks], "raised": None if raised is None else repr(raised),
               "expect": expect, "seconds": round(time.time() - started, 2)}
    print("SCENARIO " + json.dumps(summary), flush=True)
    return raised


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap-servers", required=True)
    p.add_argument("--topic", default="trainwatch.events")
    p.add_argument("--prefix", required=True, help="run ids are <prefix>-<scenario>")
    p.add_argument("--only", default=None, help="comma-separated scenario names")
    a = p.parse_args()
    root = tempfile.mkdtemp(prefix="hf-runs-")
    servers, topic = a.bootstrap_servers, a.topic
    scenarios = []

    def scenario(fn):
        scenarios.append(fn)
        return fn

    def rid(name):
        return "%s-%s" % (a.prefix, name)

    def out(name):
        return os.path.join(root, name)

    @scenario
    def healthy():
        name = "healthy"
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=MLP(), args=base_args(out(name), rid(name)), train_dataset=Regression(), callbacks=cbs), {}), {"alerts": "none"})

    @scenario
    def nan_batch():
        name = "nan_batch"
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=MLP(), args=base_args(out(name), rid(name)), train_dataset=Regression(), data_collator=CorruptBatch(NAN_STEP),
                    callbacks=cbs), {}), {"non_finite_step": NAN_STEP})

    @scenario
    def per_epoch():
        name = "per_epoch"
        model = MLP()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        max_steps, steps_per_epoch = 48, 8  # 64 samples, batch 8
        cosine = get_cosine_schedule_with_warmup(opt, 0, max_steps)  # sized in optimizer steps, as the config says
        declared = spec_from_scheduler(cosine)  # what the team means: this cosine, stepped after every optimizer step
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=model, args=base_args(out(name), rid(name), max_steps=max_steps), train_dataset=Regression(),
                    optimizers=(opt, StepPerEpoch(cosine, steps_per_epoch)),
                    callbacks=[callback(servers, topic, schedule=declared) if isinstance(c, TrainwatchCallback) else c
                               for c in cbs]), {}), {"lr_mismatch": "stepped_per_epoch", "period_steps": steps_per_epoch})

    @scenario
    def accumulation():
        name = "accumulation"
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=MLP(), args=base_args(out(name), rid(name), per_device_train_batch_size=4, gradient_accumulation_steps=4, max_steps=30),
                    train_dataset=Regression(), callbacks=cbs), {}), {"alerts": "none", "steps_per_epoch": 4})

    @scenario
    def logging_steps_5():
        name = "logging_steps_5"
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=MLP(), args=base_args(out(name), rid(name), logging_steps=5), train_dataset=Regression(), callbacks=cbs), {}),
            {"alerts": "none", "every": 5})

    @scenario
    def resume():
        name = "resume"

        def build(part, cbs):
            if part == 0:  # interrupted at step 20, right after the checkpoint of step 20 was written
                args = base_args(out(name), rid(name), save_strategy="steps", save_steps=20)
                return Trainer(model=MLP(), args=args, train_dataset=Regression(), callbacks=cbs + [StopAt(20)]), {}
            args = base_args(out(name), rid(name), save_strategy="no")
            return Trainer(model=MLP(), args=args, train_dataset=Regression(), callbacks=cbs), {
                "resume_from_checkpoint": os.path.join(out(name), "checkpoint-20")}
        return run(name, rid(name), servers, topic, build, {"alerts": "none", "resumed_at": 20}, resume_parts=2)

    @scenario
    def fp16_scaler():
        name = "fp16_scaler"

        def build(part, cbs):
            args = base_args(out(name), rid(name), fp16=True, optim="adamw_torch", max_steps=48)
            trainer = Trainer(model=MLP(), args=args, train_dataset=Regression(), callbacks=cbs)
            # what accelerate does on a GPU with fp16, here on CPU (where it keeps no scaler): torch's real GradScaler,
            # unscaling before clipping; 2^20 overflows fp16 activations' gradients at first, and growth every 8
            # good steps overflows again later, so optimizer steps are really skipped mid-schedule
            trainer.accelerator.native_amp = True
            trainer.accelerator.scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 20, growth_interval=8)
            return trainer, {}
        return run(name, rid(name), servers, topic, build, {"critical": "none", "scheduler_lag": True})

    @scenario
    def unsupported():
        name = "unsupported"
        model = MLP()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        decay = L.LambdaLR(opt, lambda s: 0.95 ** s)  # the user's own lambda: nothing trainwatch can reproduce
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=model, args=base_args(out(name), rid(name)), train_dataset=Regression(), optimizers=(opt, decay),
                    callbacks=cbs), {}), {"alerts": "no LR_MISMATCH", "warnings": 1})

    @scenario
    def crash():
        name = "crash"
        return run(name, rid(name), servers, topic, lambda part, cbs: (
            Trainer(model=MLP(raise_at_call=CRASH_STEP), args=base_args(out(name), rid(name)), train_dataset=Regression(), callbacks=cbs), {}),
            {"run_end": "failed", "last_step": CRASH_STEP - 1})

    only = set(a.only.split(",")) if a.only else None
    crashed = None
    for fn in scenarios:
        if only is None or fn.__name__ in only:
            raised = fn()
            if raised is not None and fn.__name__ == "crash":
                crashed = raised
            elif raised is not None:
                raise raised
    shutil.rmtree(root, ignore_errors=True)
    if crashed is not None:
        raise crashed  # uncaught, as in a training script that crashed


if __name__ == "__main__":
    main()
