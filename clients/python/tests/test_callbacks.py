"""The Hugging Face and Lightning callbacks, driven the way their trainers call them, with small fakes of the objects
they read, so that they run where transformers and Lightning are not installed (Debian's torch 1.13). Optimizers and
schedulers are real torch ones. The Lightning callback against real Lightning 2.6: clients/python/tests/frameworks/
lightning_runs.py, run by LightningITCase."""

import functools
import json
import math
import os
import sys
import unittest
import warnings

import torch
from torch import nn
from torch.optim import lr_scheduler as L

from trainwatch_client import Reporter
from trainwatch_client import hf as tw_hf
from trainwatch_client import lightning as tw_lightning


def _get_linear_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps):
    """transformers' linear lambda (src/transformers/optimization.py), transcribed."""
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


class Captured:
    def __init__(self):
        self.raw = []

    def __call__(self, key, value):
        self.raw.append(value)

    @property
    def events(self):
        return [json.loads(v) for v in self.raw]


class FakeTrainingArguments:
    def __init__(self, **kw):
        self.lr_scheduler_type = "linear"
        self.lr_scheduler_kwargs = {}
        self.warmup_steps = 0
        self.warmup_ratio = 0.1
        self.gradient_accumulation_steps = 2
        self.max_grad_norm = 1.0
        self.logging_nan_inf_filter = False
        self.run_name = "hf-run"
        self.output_dir = "/tmp/out"
        self.__dict__.update(kw)

    def get_warmup_steps(self, num_training_steps):
        return self.warmup_steps if self.warmup_steps > 0 else math.ceil(num_training_steps * self.warmup_ratio)


class FakeTrainerState:
    def __init__(self, global_step=0, max_steps=100):
        self.global_step = global_step
        self.max_steps = max_steps
        self.epoch = 0.0


class WarmupDecayLR:
    """Looks like a DeepSpeed scheduler: not one spec_from_scheduler knows."""
    __module__ = "deepspeed.runtime.lr_schedules"

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def step(self):
        pass


def hf_optimizer_and_scheduler(warmup=10, total=100, stepped=0):
    model = nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
    sched = L.LambdaLR(opt, functools.partial(_get_linear_schedule_with_warmup_lr_lambda, num_warmup_steps=warmup, num_training_steps=total))
    for _ in range(stepped):
        opt.step()
        sched.step()
    return model, opt, sched


def drive_hf(cb, args, state, opt, sched, steps, loss=lambda i: 1.0 / (i + 1)):
    """What Trainer does per optimizer step, as far as callbacks see it (logging_steps=1)."""
    control = object()
    for i in range(steps):
        cb.on_step_begin(args, state, control, optimizer=opt, lr_scheduler=sched)
        opt.step()
        sched.step()
        state.global_step += 1
        state.epoch = state.global_step / 20
        cb.on_step_end(args, state, control, optimizer=opt)
        cb.on_log(args, state, control, logs={"loss": loss(i), "grad_norm": 0.5 + i, "learning_rate": sched.get_last_lr()[0],
                                              "epoch": state.epoch}, optimizer=opt)
    cb.on_train_end(args, state, control, optimizer=opt)


class HuggingFaceCallbackTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", UserWarning)

    def test_imports_without_transformers(self):
        # a fresh interpreter: here the callback modules are imported already (and import transformers where installed)
        import subprocess
        code = "import sys, trainwatch_client; assert 'transformers' not in sys.modules, 'transformers imported'"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(callable(tw_hf.TrainwatchCallback().on_evaluate))  # any other hook is a no-op

    def test_declares_the_trainers_scheduler_and_reports_each_logged_step(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="hf", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        cb.on_init_end(args, state, None)
        cb.on_train_begin(args, state, None, model=model, optimizer=opt, lr_scheduler=sched, train_dataloader=list(range(40)))
        expected_lrs = [sched.get_last_lr()[0]]
        drive_hf(cb, args, state, opt, sched, 5)
        cb.reporter.close()
        ev = sink.events
        start = ev[0]
        self.assertEqual(cb.declared_from, "scheduler")
        self.assertEqual(start["schedule"]["params"]["lr_lambda"], {"name": "hf_linear_with_warmup", "num_warmup_steps": 10,
                                                                    "num_training_steps": 100})
        self.assertEqual((start["grad_accum_steps"], start["steps_per_epoch"], start["grad_clip"]), (2, 20, 1.0))
        steps = [e for e in ev if e["type"] == "step"]
        self.assertEqual([e["step"] for e in steps], [0, 1, 2, 3, 4])
        self.assertEqual(steps[0]["lr"], expected_lrs)  # step 0 used LR 0 (warmup from 0), not the LR logged after it
        self.assertEqual([e["lr"][0] for e in steps], [5e-5 * (float(i) / 10) for i in range(5)])  # as LambdaLR computes it
        self.assertEqual([e["grad_norm"] for e in steps], [0.5, 1.5, 2.5, 3.5, 4.5])
        self.assertEqual(ev[-1]["type"], "run_end")

    def test_declares_what_training_arguments_ask_for_when_the_real_scheduler_is_unknown(self):
        sink = Captured()
        model, opt, _ = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="ds", sink=sink))
        args = FakeTrainingArguments(lr_scheduler_type="cosine", warmup_steps=7)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            cb.on_train_begin(args, FakeTrainerState(max_steps=300), None, optimizer=opt, lr_scheduler=WarmupDecayLR(opt))
        self.assertTrue(any("TrainingArguments" in str(x.message) for x in w))
        cb.reporter.run_end()
        cb.reporter.close()
        self.assertEqual(cb.declared_from, "training_args")
        self.assertEqual(sink.events[0]["schedule"], {"scheduler": "cosine", "params": {"num_warmup_steps": 7, "num_training_steps": 300,
                                                                                         "base_lrs": [5e-5]}})

    def test_run_start_says_hf_counts_steps_from_one_while_steps_stay_optimizer_steps(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="hf-base", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        cb.on_train_begin(args, state, None, model=model, optimizer=opt, lr_scheduler=sched, train_dataloader=list(range(40)))
        logged = []  # the global_step HF logs each loss at (trainer_state.json's "step")
        control = object()
        for i in range(3):
            cb.on_step_begin(args, state, control, optimizer=opt, lr_scheduler=sched)
            opt.step()
            sched.step()
            state.global_step += 1
            cb.on_step_end(args, state, control, optimizer=opt)
            logged.append(state.global_step)
            cb.on_log(args, state, control, logs={"loss": 1.0, "learning_rate": sched.get_last_lr()[0]}, optimizer=opt)
        cb.on_train_end(args, state, control, optimizer=opt)
        cb.reporter.close()
        ev = sink.events
        self.assertEqual(ev[0]["type"], "run_start")
        self.assertEqual(ev[0]["step_base"], 1)
        steps = [e["step"] for e in ev if e["type"] == "step"]
        self.assertEqual(steps, [0, 1, 2])
        self.assertEqual([s + ev[0]["step_base"] for s in steps], logged)  # what alerts name: HF's global_step

    def test_resumed_trainer_is_declared_at_its_global_step(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler(stepped=40)
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="resumed", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState(global_step=40)
        cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)
        drive_hf(cb, args, state, opt, sched, 2)
        cb.reporter.close()
        ev = sink.events
        self.assertEqual(ev[0]["schedule"]["params"]["last_epoch"], -1)
        self.assertEqual([e["step"] for e in ev if e["type"] == "step"], [40, 41])

    def test_warns_that_hf_hides_nan_losses_by_default(self):
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="nan", sink=Captured()))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            cb.on_train_begin(FakeTrainingArguments(logging_nan_inf_filter=True), FakeTrainerState(), None, optimizer=opt, lr_scheduler=sched)
        self.assertTrue(any("logging_nan_inf_filter" in str(x.message) for x in w))
        cb.reporter.close()

    def test_a_nan_loss_logged_by_hf_reaches_trainwatch_bare(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="nan", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)
        drive_hf(cb, args, state, opt, sched, 3, loss=lambda i: float("nan") if i == 2 else 1.0)
        cb.reporter.close()
        self.assertIn(b'"step":2,', [v for v in sink.raw if b'"loss":NaN' in v][0])


class FakeSchedulerConfig:
    def __init__(self, scheduler, interval="step", frequency=1):
        self.scheduler = scheduler
        self.interval = interval
        self.frequency = frequency
        self.monitor = None


class FakeLightningTrainer:
    def __init__(self, optimizer, configs, accumulate=2, batches=10, clip=0.5, global_step=0):
        self.optimizers = [optimizer]
        self.lr_scheduler_configs = configs
        self.accumulate_grad_batches = accumulate
        self.num_training_batches = batches
        self.gradient_clip_val = clip
        self.gradient_clip_algorithm = "norm"
        self.global_step = global_step
        self.current_epoch = 0


def drive_lightning(cb, trainer, module, opt, sched, interval, epochs=1):
    """Lightning's automatic optimization as callbacks see it: accumulate, hook, step, scheduler by interval."""
    cb.on_fit_start(trainer, module)
    cb.on_train_start(trainer, module)
    micro_losses = []
    for epoch in range(epochs):
        trainer.current_epoch = epoch
        for batch_idx in range(trainer.num_training_batches):
            x = torch.full((4, 3), float(batch_idx + 1))
            loss = module(x).pow(2).mean()
            (loss / trainer.accumulate_grad_batches).backward()
            micro_losses.append(loss.item())
            if (batch_idx + 1) % trainer.accumulate_grad_batches == 0:
                cb.on_before_optimizer_step(trainer, module, opt)
                opt.step()
                opt.zero_grad()
                trainer.global_step += 1
                if interval == "step":
                    sched.step()
            # as Lightning's automatic optimization hands it over: the loss it back-propagated, divided by the accumulation
            cb.on_train_batch_end(trainer, module, {"loss": (loss / trainer.accumulate_grad_batches).detach()}, ("x", batch_idx), batch_idx)
        if interval == "epoch":
            sched.step()
    cb.on_train_end(trainer, module)
    return micro_losses


class LightningCallbackTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", UserWarning)

    def test_imports_without_lightning(self):
        # a fresh interpreter: here the callback modules are imported already (and import Lightning where installed)
        import subprocess
        code = ("import sys, trainwatch_client; assert not {'lightning', 'pytorch_lightning'} & set(sys.modules), 'Lightning imported'")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(callable(tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl", sink=Captured())).on_validation_end))

    def test_reports_one_step_per_optimizer_step_with_the_mean_micro_batch_loss(self):
        sink = Captured()
        torch.manual_seed(0)
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.StepLR(opt, 2, 0.5)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step")])
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl", sink=sink), batch_ids=lambda b: "batch-%d" % b[1])
        micro = drive_lightning(cb, trainer, module, opt, sched, "step")
        cb.reporter.close()
        ev = sink.events
        start, steps = ev[0], [e for e in ev if e["type"] == "step"]
        self.assertEqual((start["grad_accum_steps"], start["steps_per_epoch"], start["grad_clip"]), (2, 5, 0.5))
        self.assertEqual(start["schedule"]["scheduler"], "StepLR")
        self.assertNotIn("interval", start["schedule"])
        self.assertEqual([e["step"] for e in steps], [0, 1, 2, 3, 4])
        self.assertNotIn("step_base", start)  # Lightning's loggers number steps from 0, as reported
        for i, e in enumerate(steps):
            self.assertAlmostEqual(e["loss"], (micro[2 * i] + micro[2 * i + 1]) / 2, places=5)
            self.assertGreater(e["grad_norm"], 0)
            self.assertEqual(e["batch"], ["batch-%d" % (2 * i + 1)])
        self.assertEqual([e["lr"][0] for e in steps], [0.01, 0.01, 0.005, 0.005, 0.0025])
        self.assertEqual(ev[-1], {"type": "run_end", "run_id": "pl", "time": ev[-1]["time"], "status": "completed", "step": 4})

    def test_epoch_interval_is_declared_per_epoch(self):
        sink = Captured()
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.ExponentialLR(opt, 0.5)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "epoch", frequency=1)], accumulate=1, batches=4)
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl-epoch", sink=sink))
        drive_lightning(cb, trainer, module, opt, sched, "epoch", epochs=3)
        cb.reporter.close()
        ev = sink.events
        spec = ev[0]["schedule"]
        self.assertEqual((spec["interval"], spec["steps_per_epoch"]), ("epoch", 4))
        steps = [e for e in ev if e["type"] == "step"]
        self.assertEqual([e["lr"][0] for e in steps], [0.01] * 4 + [0.005] * 4 + [0.0025] * 4)

    def test_lightning_dict_configs_of_older_versions(self):
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.StepLR(opt, 3)
        trainer = FakeLightningTrainer(opt, None)
        trainer.lr_schedulers = [{"scheduler": sched, "interval": "step", "frequency": 2}]
        self.assertEqual(tw_lightning._scheduler_config(trainer), (sched, "step", 2))

    def test_needs_a_run_id(self):
        with self.assertRaisesRegex(ValueError, "run_id"):
            tw_lightning.TrainwatchCallback("localhost:9092")

    def test_a_scheduler_trainwatch_cannot_reproduce_never_stops_training(self):
        # a plain LambdaLR used to raise in on_train_start and abort fit() at step 0
        sink = Captured()
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.LambdaLR(opt, lambda e: 0.95 ** e)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step")])
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl-lambda", sink=sink))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            drive_lightning(cb, trainer, module, opt, sched, "step")
        self.assertEqual(len([x for x in w if "no schedule declared" in str(x.message)]), 1)
        cb.reporter.close()
        ev = sink.events
        self.assertNotIn("schedule", ev[0])
        self.assertEqual(len([e for e in ev if e["type"] == "step"]), 5)
        self.assertEqual(getattr(cb, "client_errors", 0), 0)

    def test_only_the_global_rank_zero_reports(self):
        sink = Captured()
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.StepLR(opt, 2)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step")])
        trainer.is_global_zero = False
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="rank1", sink=sink))
        drive_lightning(cb, trainer, module, opt, sched, "step")
        self.assertEqual(sink.raw, [])


class LightningSteppingTest(unittest.TestCase):
    """What the callback declares for Lightning's frequency, manual optimization and DDP, driven with fakes; the same
    paths run against real Lightning 2.6 in clients/python/tests/frameworks/lightning_runs.py (LightningITCase)."""

    def setUp(self):
        warnings.simplefilter("ignore", UserWarning)

    def test_frequency_is_counted_in_the_batches_of_each_epoch(self):
        # the same shapes as the LR traces recorded from real Lightning (src/test/resources/schedule/lightning-frequency.json)
        calls = tw_lightning.lightning_calls_before
        self.assertEqual([calls(s, 10, 1, 3) for s in range(14)], [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4])
        self.assertEqual([calls(s, 10, 2, 2) for s in range(12)], list(range(12)))
        self.assertEqual([calls(s, 9, 2, 4) for s in range(12)], [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4])
        self.assertEqual([calls(s, 5, 1, 7) for s in range(12)], [0] * 12)

    def test_frequency_is_declared_with_batches_per_epoch_and_accumulation(self):
        sink = Captured()
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.StepLR(opt, 1, 0.5)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step", frequency=3)], accumulate=2, batches=10)
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl-freq", sink=sink))
        cb.on_train_start(trainer, module)
        cb.reporter.close()
        spec = sink.events[0]["schedule"]
        self.assertEqual((spec["batches_per_epoch"], spec["accumulate_grad_batches"], spec["frequency"]), (10, 2, 3))
        self.assertNotIn("interval", spec)

    def test_a_resumed_frequency_schedule_starts_where_the_restored_scheduler_is(self):
        sink = Captured()
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.StepLR(opt, 1, 0.5)
        for _ in range(7):  # 2 epochs of 10 batches at frequency 3 (3 calls each), then one more call, restored
            opt.step()
            sched.step()
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step", frequency=3)], accumulate=1, batches=10, global_step=23)
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl-freq-resume", sink=sink))
        cb.on_train_start(trainer, module)
        cb.reporter.close()
        # step 23 comes after 2 * 3 + 1 calls: the spec's index there is last_epoch + 1 + 7 = 7
        self.assertEqual(sink.events[0]["schedule"]["params"]["last_epoch"], -1)

    def test_frequency_over_an_unsized_loader_is_watched_without_schedule(self):
        sink = Captured()
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(L.StepLR(opt, 1), "step", frequency=3)], batches=float("inf"))
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl-freq-unsized", sink=sink))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            cb.on_train_start(trainer, module)
        cb.reporter.close()
        self.assertNotIn("schedule", sink.events[0])
        self.assertEqual(len([x for x in w if "frequency 3 with an unsized train loader" in str(x.message)]), 1)

    def test_manual_optimization_reports_each_batch_with_the_first_optimizers_lr(self):
        sink = Captured()
        g, d = nn.Linear(3, 1), nn.Linear(1, 1)
        opt_g, opt_d = torch.optim.SGD(g.parameters(), lr=0.01), torch.optim.SGD(d.parameters(), lr=0.002)
        sched_g = L.StepLR(opt_g, 2, 0.5)
        module = nn.ModuleDict({"g": g, "d": d})
        module.automatic_optimization = False
        trainer = FakeLightningTrainer(opt_g, [FakeSchedulerConfig(sched_g, "epoch"), FakeSchedulerConfig(L.StepLR(opt_d, 1), "epoch")],
                                       accumulate=1, batches=4)
        trainer.optimizers = [opt_g, opt_d]
        cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="pl-gan", sink=sink))
        cb.on_train_start(trainer, module)
        for i in range(4):
            cb.on_train_batch_start(trainer, module, None, i)
            x = torch.ones(2, 3)
            loss = g(x).pow(2).mean()
            loss.backward()
            cb.on_before_optimizer_step(trainer, module, opt_g)
            opt_g.step()
            trainer.global_step += 1
            d(g(x).detach()).mean().backward()
            cb.on_before_optimizer_step(trainer, module, opt_d)
            opt_d.step()
            trainer.global_step += 1  # Lightning counts every optimizer's steps
            sched_g.step()  # the module steps its scheduler in training_step
            cb.on_train_batch_end(trainer, module, {"loss": loss.detach()}, None, i)
        cb.on_train_end(trainer, module)
        cb.reporter.close()
        ev = sink.events
        self.assertEqual(ev[0]["schedule"]["scheduler"], "StepLR")
        self.assertNotIn("interval", ev[0]["schedule"])  # once per batch, whatever the config's (unused) interval says
        steps = [e for e in ev if e["type"] == "step"]
        self.assertEqual([e["step"] for e in steps], [0, 1, 2, 3])
        self.assertEqual([e["lr"] for e in steps], [[0.01], [0.01], [0.005], [0.005]])
        self.assertEqual(ev[-1]["step"], 3)

    def test_under_ddp_every_rank_reduces_the_loss_and_only_rank_zero_sends(self):
        class Strategy:
            def __init__(self):
                self.reduced = []

            def reduce(self, t, reduce_op="mean"):
                self.reduced.append(float(t))
                return t * 0 + 7.0  # stands for the mean across ranks

        sinks = []
        for rank in (0, 1):
            sink = Captured()
            sinks.append(sink)
            module = nn.Linear(3, 1)
            opt = torch.optim.SGD(module.parameters(), lr=0.01)
            sched = L.StepLR(opt, 2)
            trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step")], accumulate=1, batches=3)
            trainer.world_size, trainer.is_global_zero, trainer.strategy = 2, rank == 0, Strategy()
            cb = tw_lightning.TrainwatchCallback(reporter=Reporter(run_id="ddp", sink=sink))
            reporter = cb.reporter
            drive_lightning(cb, trainer, module, opt, sched, "step")
            reporter.close()
            self.assertEqual(len(trainer.strategy.reduced), 3, "rank %d reduces at every optimizer step" % rank)
        self.assertEqual([e["loss"] for e in sinks[0].events if e["type"] == "step"], [7.0] * 3)
        self.assertEqual(sinks[1].raw, [])


class FakeScaler:
    """A GradScaler as far as the callback reads it: enabled, with its current scale."""

    def __init__(self, scale):
        self.scale = scale

    def is_enabled(self):
        return True

    def get_scale(self):
        return self.scale


class HuggingFaceScalerAndCrashTest(unittest.TestCase):
    def test_loss_scale_and_scheduler_lag_follow_the_skipped_steps(self):
        # accelerate: when the GradScaler skips optimizer.step(), the Trainer does not step the scheduler either
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        wrapped = AcceleratedOptimizer(opt)
        wrapped.scaler, wrapped.step_was_skipped = FakeScaler(2.0 ** 16), False
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="fp16", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        cb.on_train_begin(args, state, None, optimizer=wrapped, lr_scheduler=sched)
        skip = {1, 2, 5}
        for i in range(7):
            cb.on_step_begin(args, state, None, optimizer=wrapped)
            wrapped.step_was_skipped = i in skip
            wrapped.scaler.scale = wrapped.scaler.scale / 2 if i in skip else wrapped.scaler.scale  # GradScaler.update()
            state.global_step += 1
            cb.on_step_end(args, state, None, optimizer=wrapped)
            cb.on_log(args, state, None, logs={"loss": 1.0}, optimizer=wrapped)
        cb.on_train_end(args, state, None)
        cb.reporter.close()
        steps = [e for e in sink.events if e["type"] == "step"]
        self.assertEqual([e.get("scheduler_lag") for e in steps], [None, None, 1, 2, 2, 2, 3])
        self.assertEqual([e["loss_scale"] for e in steps], [65536.0, 65536.0, 32768.0, 16384.0, 16384.0, 16384.0, 8192.0])
        self.assertEqual(cb.skipped_steps, 3)

    def test_a_crash_inside_train_ends_the_run_as_failed_when_the_interpreter_exits(self):
        # HF has no exception hook: the unfinished run is ended by the callback's exit hook, before kafka-python's own
        import subprocess
        import tempfile
        out = os.path.join(tempfile.mkdtemp(), "events.jsonl")
        code = "\n".join([
            "import sys; sys.path.insert(0, %r); sys.path.insert(0, %r)" % (os.path.dirname(os.path.dirname(__file__)), os.path.dirname(__file__)),
            "import warnings; warnings.simplefilter('ignore')",
            "from test_callbacks import *",
            "from trainwatch_client import JsonLinesSink",
            "model, opt, sched = hf_optimizer_and_scheduler()",
            "cb = tw_hf.TrainwatchCallback(sink=JsonLinesSink(%r))" % out,
            "args, state = FakeTrainingArguments(), FakeTrainerState()",
            "cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)",
            "for i in range(3):",
            "    cb.on_step_begin(args, state, None, optimizer=opt); state.global_step += 1",
            "    cb.on_log(args, state, None, logs={'loss': 1.0}, optimizer=opt)",
            "raise RuntimeError('the model broke')",
        ])
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("RuntimeError: the model broke", r.stderr)
        with open(out) as f:
            events = [json.loads(line) for line in f]
        self.assertEqual([e["type"] for e in events], ["run_start", "step", "step", "step", "run_end"])
        self.assertEqual((events[-1]["status"], events[-1]["step"]), ("failed", 2))

    def test_a_second_train_after_a_crash_ends_the_first_stream_as_failed(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="again", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)
        cb.on_step_begin(args, state, None, optimizer=opt)
        state.global_step += 1
        cb.on_log(args, state, None, logs={"loss": 1.0}, optimizer=opt)
        # trainer.train() raised here; the user calls it again with the same callback (a reporter given: no new stream)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)
        cb.reporter.close()
        ends = [e for e in sink.events if e["type"] == "run_end"]
        self.assertEqual([(e["status"], e["step"]) for e in ends], [("failed", 0)])

    def test_a_users_own_unreproducible_scheduler_is_not_replaced_by_training_arguments(self):
        # the Trainer steps the scheduler passed in optimizers=, so declaring TrainingArguments' one would be wrong
        sink = Captured()
        model, opt, _ = hf_optimizer_and_scheduler()
        own = L.LambdaLR(opt, lambda s: 0.95 ** s)
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="own", sink=sink))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            cb.on_train_begin(FakeTrainingArguments(), FakeTrainerState(), None, optimizer=opt, lr_scheduler=own)
        cb.reporter.run_end()
        cb.reporter.close()
        self.assertEqual(len([x for x in w if str(x.message).startswith("trainwatch:")]), 1)
        self.assertIn("no schedule declared", str(w[0].message))
        self.assertNotIn("schedule", sink.events[0])
        self.assertIsNone(cb.declared_from)


class BrokenReporter(Reporter):
    """Every call fails, as a client bug or a broken environment would make it."""

    def run_start(self, *args, **kwargs):
        raise RuntimeError("run_start broke")

    def step(self, *args, **kwargs):
        raise RuntimeError("step broke")

    def run_end(self, *args, **kwargs):
        raise RuntimeError("run_end broke")

    def _grad_norm(self, *args, **kwargs):
        raise RuntimeError("grad norm broke")


class AcceleratedOptimizer:
    """Looks like accelerate's wrapper: the real optimizer is its .optimizer."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.param_groups = optimizer.param_groups


class HuggingFaceDefaultsTest(unittest.TestCase):
    def test_runs_that_keep_the_default_output_dir_get_distinct_ids(self):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a = tw_hf.default_run_id(FakeTrainingArguments(run_name=None, output_dir="trainer_output"))
            b = tw_hf.default_run_id(FakeTrainingArguments(run_name=None, output_dir="trainer_output"))
        self.assertRegex(a, r"^trainer_output-\d{8}-\d{6}-[0-9a-f]{4}$")
        self.assertNotEqual(a, b)
        self.assertTrue(any("run_name" in str(x.message) for x in w))
        self.assertEqual(tw_hf.default_run_id(FakeTrainingArguments(run_name=None, output_dir="/ckpt/llama-sft-7/")), "llama-sft-7")
        self.assertEqual(tw_hf.default_run_id(FakeTrainingArguments(run_name="named", output_dir="trainer_output")), "named")

    def test_the_optimizer_is_named_through_its_wrapper(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="wrapped", sink=sink))
        cb.on_train_begin(FakeTrainingArguments(), FakeTrainerState(), None, optimizer=AcceleratedOptimizer(opt), lr_scheduler=sched)
        cb.reporter.close()
        self.assertEqual(sink.events[0]["optimizer"], "AdamW")


class NeverInTheWayTest(unittest.TestCase):
    def test_no_lightning_hook_raises_into_training(self):
        module = nn.Linear(3, 1)
        opt = torch.optim.SGD(module.parameters(), lr=0.01)
        sched = L.StepLR(opt, 2)
        trainer = FakeLightningTrainer(opt, [FakeSchedulerConfig(sched, "step")])
        cb = tw_lightning.TrainwatchCallback(reporter=BrokenReporter(run_id="broken", sink=Captured()))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            drive_lightning(cb, trainer, module, opt, sched, "step")  # training completes
            cb.on_exception(trainer, module, RuntimeError("the user's own error"))
        self.assertGreaterEqual(cb.client_errors, 1 + 5 + 5 + 1)  # start, grad norms, steps, end
        hooks = {str(x.message).split(" failed")[0] for x in w}
        self.assertIn("trainwatch: on_train_start", hooks)
        self.assertEqual(len(w), len(hooks))  # one warning per hook, not one per call

    def test_no_hugging_face_hook_raises_into_training(self):
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=BrokenReporter(run_id="broken", sink=Captured()))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)
            drive_hf(cb, args, state, opt, sched, 3)
        self.assertGreaterEqual(cb.client_errors, 1 + 3 + 1)

    def test_only_the_hugging_face_main_process_reports(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="rank1", sink=sink))
        args, state = FakeTrainingArguments(), FakeTrainerState()
        state.is_world_process_zero = False
        cb.on_train_begin(args, state, None, optimizer=opt, lr_scheduler=sched)
        drive_hf(cb, args, state, opt, sched, 3)
        self.assertEqual(sink.raw, [])

    def test_hugging_face_steps_per_epoch_count_the_last_partial_window(self):
        sink = Captured()
        model, opt, sched = hf_optimizer_and_scheduler()
        cb = tw_hf.TrainwatchCallback(reporter=Reporter(run_id="ceil", sink=sink))
        cb.on_train_begin(FakeTrainingArguments(), FakeTrainerState(), None, optimizer=opt, lr_scheduler=sched, train_dataloader=list(range(41)))
        cb.reporter.close()
        self.assertEqual(sink.events[0]["steps_per_epoch"], 21)


if __name__ == "__main__":
    unittest.main()
