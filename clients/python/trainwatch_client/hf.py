"""Hugging Face ``transformers.Trainer`` callback:

    from trainwatch_client.hf import TrainwatchCallback
    trainer = Trainer(..., callbacks=[TrainwatchCallback("broker:9092")])

Its logic is unit-tested with small fakes of the objects it reads (TrainingArguments, TrainerState, the optimizer and
scheduler the Trainer passes to callbacks); not yet against a real Trainer run (see the README). No hook ever raises
into training: an error is warned about once and counted in ``client_errors``. Only the main process
(``state.is_world_process_zero``) reports.

What it reads: at ``on_train_begin`` the Trainer's real scheduler (``spec_from_scheduler``: transformers' LambdaLR
lambdas are recognised) or, when that one is not a scheduler trainwatch can reproduce (a DeepSpeed scheduler, for
example), the schedule TrainingArguments ask for (``lr_scheduler_type``, ``lr_scheduler_kwargs``, the warmup from
``get_warmup_steps``, ``state.max_steps``); ``gradient_accumulation_steps``, ``max_grad_norm`` and the steps per
epoch. At ``on_step_begin`` the LR of every param group for the optimizer step about to run; at ``on_log`` the loss
and grad norm HF logs. So trainwatch sees one point every ``logging_steps`` (set it to 1 to check every step) and
the loss is HF's mean over the logging window. HF logs a NaN loss, and every loss after it, as 0.0 unless
``logging_nan_inf_filter=False``.
"""

import math
import os
import random
import time
import warnings

from ._callback import _Groups, _never_raises, _no_op
from .reporter import Reporter
from .spec import UnsupportedScheduler, hf_spec, spec_from_scheduler

try:  # a real TrainerCallback base when transformers is installed; the class works without it (tests, no HF)
    from transformers import TrainerCallback as _Base
except ImportError:  # pragma: no cover - depends on the environment
    _Base = object

__all__ = ["TrainwatchCallback", "spec_from_training_args"]


def spec_from_training_args(args, state, optimizer):
    """The spec of the scheduler ``Trainer.create_scheduler`` builds from TrainingArguments."""
    max_steps = int(state.max_steps)
    if hasattr(args, "get_warmup_steps"):
        warmup = int(args.get_warmup_steps(max_steps))
    else:
        warmup = int(args.warmup_steps) if getattr(args, "warmup_steps", 0) > 0 else math.ceil(max_steps * getattr(args, "warmup_ratio", 0.0))
    groups = optimizer.param_groups
    base = [g.get("initial_lr", g["lr"]) for g in groups]
    defaults = getattr(optimizer, "defaults", None) or {}
    return hf_spec(args.lr_scheduler_type, base, num_warmup_steps=warmup, num_training_steps=max_steps,
                   scheduler_kwargs=getattr(args, "lr_scheduler_kwargs", None) or {}, lr_init=defaults.get("lr"))


# transformers' default output_dir: runs that keep it share its name, so it cannot name a run by itself
_DEFAULT_OUTPUT_DIRS = ("trainer_output", "tmp_trainer")


def default_run_id(args):
    """``args.run_name``; else the output folder's name, which stays the same when the run resumes from a checkpoint
    in it; but the Trainer's default folder is shared by every run that keeps it, so then a time and a random suffix
    make the id unique (and a warning says to set run_name)."""
    if getattr(args, "run_name", None):
        return args.run_name
    name = os.path.basename(os.path.normpath(getattr(args, "output_dir", None) or "trainer_output"))
    if name not in _DEFAULT_OUTPUT_DIRS:
        return name
    unique = "%s-%s-%04x" % (name, time.strftime("%Y%m%d-%H%M%S", time.gmtime()), random.getrandbits(16))
    warnings.warn("trainwatch: the run is reported as %s: set TrainingArguments(run_name=...) (or output_dir) to name it, and to keep "
                  "its name when it resumes" % unique, stacklevel=3)
    return unique


class TrainwatchCallback(_Base):
    """Reports a Trainer run to trainwatch. ``run_id``: default ``args.run_name`` (else see :func:`default_run_id`);
    ``reporter``: an existing :class:`Reporter` (then bootstrap_servers is not needed); ``schedule``: a spec that wins
    over the one read from the Trainer; other keyword arguments go to :class:`Reporter`."""

    def __init__(self, bootstrap_servers=None, run_id=None, *, reporter=None, schedule=None, thresholds=None, **reporter_kwargs):
        self.bootstrap_servers = bootstrap_servers
        self.run_id = run_id
        self.reporter = reporter
        self._own_reporter = reporter is None
        self._schedule = schedule
        self._thresholds = thresholds
        self._reporter_kwargs = reporter_kwargs
        self._lrs = None  # (optimizer step index, LRs of every group)
        self._optimizer = None
        self.declared_from = None  # "scheduler" | "training_args" | "given" | None: where the declared schedule came from

    def __getattr__(self, name):
        # without transformers there is no TrainerCallback to inherit the other hooks from
        if name.startswith("on_"):
            return _no_op
        raise AttributeError(name)

    @_never_raises
    def on_train_begin(self, args, state, control, **kwargs):
        if not getattr(state, "is_world_process_zero", True):
            self.reporter = None  # one stream per run: only the main process reports
            return
        optimizer = kwargs.get("optimizer")
        scheduler = kwargs.get("lr_scheduler")
        if self.reporter is None:
            self.reporter = Reporter(self.bootstrap_servers, self.run_id or default_run_id(args), **self._reporter_kwargs)
        self._optimizer = optimizer
        if getattr(args, "logging_nan_inf_filter", False):
            # measured with transformers 5.18: the NaN step and every later one are logged as loss 0.0
            warnings.warn("trainwatch: with logging_nan_inf_filter=True (HF's default) HF logs a NaN or infinite loss, and every loss "
                          "after it, as 0.0; set it to False so that trainwatch sees them (the grad norm HF logs still shows NaN)",
                          stacklevel=2)
        spec = self._declared_spec(args, state, optimizer, scheduler)
        accum = int(getattr(args, "gradient_accumulation_steps", 1) or 1)
        steps_per_epoch = None
        loader = kwargs.get("train_dataloader")
        try:
            if loader is not None and len(loader) > 0:
                steps_per_epoch = max(math.ceil(len(loader) / accum), 1)  # the Trainer steps on a last partial window too
        except TypeError:
            pass  # an iterable dataset has no length
        clip = getattr(args, "max_grad_norm", None)
        self.reporter.run_start(optimizer, None, grad_accum_steps=accum, steps_per_epoch=steps_per_epoch,
                                grad_clip=clip if clip and clip > 0 else None, schedule=spec, thresholds=self._thresholds,
                                start_step=int(state.global_step))

    def _declared_spec(self, args, state, optimizer, scheduler):
        if self._schedule is not None:
            self.declared_from = "given"
            return self._schedule
        spec = None
        if scheduler is not None:
            try:
                spec = spec_from_scheduler(scheduler)
            except UnsupportedScheduler as e:
                reason = str(e)
            else:
                self.declared_from = "scheduler"
                # the spec counts from the scheduler's current index; the run's steps from global_step
                if "last_epoch" in spec["params"]:
                    spec["params"]["last_epoch"] = max(-1, spec["params"]["last_epoch"] - int(state.global_step))
                return spec
        else:
            reason = "the Trainer passed no lr_scheduler"
        try:
            spec = spec_from_training_args(args, state, optimizer)
        except UnsupportedScheduler as e:
            warnings.warn("trainwatch: no schedule declared (the LR is not checked): %s; and %s" % (reason, e), stacklevel=3)
            return None
        self.declared_from = "training_args"
        warnings.warn("trainwatch: declaring the schedule TrainingArguments ask for (%s), not the Trainer's scheduler: %s"
                      % (spec["scheduler"], reason), stacklevel=3)
        return spec

    @_never_raises
    def on_step_begin(self, args, state, control, **kwargs):
        optimizer = kwargs.get("optimizer") or self._optimizer
        if optimizer is not None:
            # the LRs optimizer step number global_step (0-based) is about to use
            self._lrs = (int(state.global_step), [g["lr"] for g in optimizer.param_groups])

    @_never_raises
    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs or self.reporter is None or state.global_step < 1:
            return
        step = int(state.global_step) - 1  # the last optimizer step done
        if self._lrs is not None and self._lrs[0] == step:
            lrs = self._lrs[1]
        else:
            optimizer = kwargs.get("optimizer") or self._optimizer
            lrs = [g["lr"] for g in optimizer.param_groups] if optimizer is not None else [logs.get("learning_rate", 0.0)]
        self.reporter.step(step, logs["loss"], _Groups(lrs), grad_norm=logs.get("grad_norm"), epoch=logs.get("epoch", state.epoch))

    @_never_raises
    def on_train_end(self, args, state, control, **kwargs):
        if self.reporter is None:
            return
        self.reporter.run_end("completed", max(int(state.global_step) - 1, 0))
        if self._own_reporter:
            self.reporter.close()
            self.reporter = None  # a second trainer.train() starts a new one
