"""Hugging Face ``transformers.Trainer`` callback:

    from trainwatch_client.hf import TrainwatchCallback
    trainer = Trainer(..., callbacks=[TrainwatchCallback("broker:9092")])

Proven against real Trainer runs (transformers 5.18 with accelerate 1.15 and torch 2.13, CPU;
``HuggingFaceTrainerITCase`` runs clients/python/tests/frameworks/hf_runs.py against the live job): every step event
carries exactly the loss HF logged for it and exactly the LRs the torch optimizer used at that step (a step pre-hook
records them), with logging_steps 1 and 5, gradient accumulation 4 (steps_per_epoch = ceil(batches / accumulation)),
a resume from a checkpoint (a second run_start at the global step, no LR_MISMATCH), a NaN batch (NON_FINITE at its
step), a scheduler stepped once per epoch (LR_MISMATCH "once per epoch"), fp16 with torch's GradScaler (loss_scale on
every step, scheduler_lag counting the skipped steps), a user's own LambdaLR (one warning, no schedule declared) and a
crash inside ``trainer.train()`` (run_end "failed"). The optimizer is named through accelerate's wrapper (AdamW).
Only the main process (``state.is_world_process_zero``) reports (``ranks="all"``, a Reporter keyword: every process, as
``<run_id>/rank-<k>``, each with the loss HF logs, which HF has already averaged over the processes). No hook ever raises into training: an error is
warned about once and counted in ``client_errors``.

What it reads: at ``on_train_begin`` the Trainer's real scheduler (``spec_from_scheduler`` through accelerate's and
DeepSpeed's wrappers: transformers' LambdaLR lambdas are recognised); a scheduler DeepSpeed built from its config is
declared as TrainingArguments describe it (``lr_scheduler_type``, ``lr_scheduler_kwargs``, ``get_warmup_steps``,
``state.max_steps``), any other scheduler trainwatch cannot reproduce (one the user passed in ``optimizers=``,
transformers 5's GreedyLR) leaves the run without schedule checks, with one warning: the Trainer steps that
scheduler, so TrainingArguments' schedule would be wrong. Also ``gradient_accumulation_steps``, ``max_grad_norm``
and the steps per epoch. The run_start says ``step_base`` 1: the callback reports 0-based optimizer steps (HF's
``global_step - 1``), and alert messages name them as HF logs them (``global_step``). At ``on_step_begin`` the LR of every param group for the optimizer step about to run, the
GradScaler's scale its backward uses and the scheduler lag so far; at ``on_step_end`` whether accelerate skipped the
step (``optimizer.step_was_skipped``: the Trainer then skips ``lr_scheduler.step()`` too); at ``on_log`` the loss
and grad norm HF logs. So trainwatch sees one point every ``logging_steps`` (set it to 1 to check every step) and
the loss is HF's mean over the logging window. HF logs a NaN loss, and every loss after it, as 0.0 unless
``logging_nan_inf_filter=False``.

HF has no exception hook: a run whose ``trainer.train()`` raised is ended ("failed", "killed" for a
KeyboardInterrupt) when the same callback starts training again, or when the interpreter shuts down (a process killed
by a signal sends no run_end; the job's idle timeout ends it).
"""

import math
import os
import random
import sys
import threading
import time
import warnings
import weakref

from ._callback import _Groups, _ReportingCallback, _lrs, _never_raises, _scaler_scale, _steps_per_epoch
from .spec import UnsupportedScheduler, _unwrap, hf_spec, spec_from_scheduler

try:  # a real TrainerCallback base when transformers is installed; the class works without it (tests, no HF)
    from transformers import TrainerCallback as _Base
except ImportError:  # pragma: no cover - depends on the environment
    _Base = object

__all__ = ["TrainwatchCallback", "spec_from_training_args"]

# HF's global_step (trainer_state.json's "step", the logs, checkpoint-N) counts the optimizer steps done: the step this
# callback reports as optimizer step s is logged by HF as s + 1, so alerts name it so
HF_STEP_BASE = 1


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


def _is_deepspeeds_own(scheduler):
    """A scheduler DeepSpeed built from its config (WarmupLR, WarmupDecayLR, ...): HF fills its "auto" values from
    TrainingArguments, so those are the closest description trainwatch has of it."""
    inner = _unwrap(scheduler)
    return type(inner).__module__.split(".")[0] == "deepspeed"


# callbacks whose run started and has not ended: HF has no exception hook, so a crash inside trainer.train() is
# noticed when the interpreter shuts down (or when the same callback starts training again)
_OPEN = weakref.WeakSet()
_AT_EXIT_REGISTERED = False


def _register_at_exit():
    global _AT_EXIT_REGISTERED
    if _AT_EXIT_REGISTERED:
        return
    _AT_EXIT_REGISTERED = True
    # threading's exit hooks run before atexit's: kafka-python closes its producer in an atexit hook registered after
    # ours would be (atexit runs last-registered first), so the run_end would be lost there
    register = getattr(threading, "_register_atexit", None) or __import__("atexit").register
    register(_end_open_runs)


def _end_open_runs():
    # an uncaught exception was printed (sys.last_*) before the interpreter shuts down; KeyboardInterrupt is a kill
    last = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    status = "killed" if isinstance(last, KeyboardInterrupt) else "failed"
    for cb in list(_OPEN):
        cb._end_unfinished(status)


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


class TrainwatchCallback(_ReportingCallback, _Base):
    """Reports a Trainer run to trainwatch. ``run_id``: default ``args.run_name`` (else see :func:`default_run_id`);
    ``reporter``: an existing :class:`Reporter` (then bootstrap_servers is not needed); ``schedule``: a spec that wins
    over the one read from the Trainer; other keyword arguments go to :class:`Reporter`."""

    def __init__(self, bootstrap_servers=None, run_id=None, *, reporter=None, schedule=None, thresholds=None, **reporter_kwargs):
        super().__init__(bootstrap_servers, run_id, reporter, schedule, thresholds, reporter_kwargs)
        self._now = None  # (optimizer step index, LRs of every group, loss scale or None, scheduler lag) at on_step_begin
        self._optimizer = None
        self._skipped = 0  # optimizer steps skipped by the GradScaler (HF did not step the scheduler after them)
        self.skipped_steps = 0
        self.declared_from = None  # "scheduler" | "training_args" | "given" | None: where the declared schedule came from

    @_never_raises
    def on_train_begin(self, args, state, control, **kwargs):
        if not self._reports_here(getattr(state, "is_world_process_zero", True)):
            return
        if self in _OPEN:
            self._end_unfinished("failed")  # the last trainer.train() raised: it never reached on_train_end
        optimizer = kwargs.get("optimizer")
        scheduler = kwargs.get("lr_scheduler")
        self._open_reporter(self.run_id or default_run_id(args))
        self._optimizer = optimizer
        self._now = None
        self._skipped = 0
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
                steps_per_epoch = _steps_per_epoch(len(loader), accum)
        except TypeError:
            pass  # an iterable dataset has no length
        clip = getattr(args, "max_grad_norm", None)
        _register_at_exit()
        _OPEN.add(self)
        self.reporter.run_start(optimizer, None, grad_accum_steps=accum, steps_per_epoch=steps_per_epoch,
                                grad_clip=clip if clip and clip > 0 else None, schedule=spec, thresholds=self._thresholds,
                                start_step=int(state.global_step), step_base=HF_STEP_BASE)

    def _declared_spec(self, args, state, optimizer, scheduler):
        if self._schedule is not None:
            self.declared_from = "given"
            return self._schedule
        if scheduler is not None:
            try:
                spec = spec_from_scheduler(scheduler)
            except UnsupportedScheduler as e:
                if not _is_deepspeeds_own(scheduler):
                    # the Trainer steps this scheduler (one the user passed in optimizers=), not the one TrainingArguments
                    # describe: declaring those would flag every step as an LR mismatch
                    warnings.warn("trainwatch: no schedule declared (the LR is not checked): %s" % e, stacklevel=3)
                    return None
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
            # what optimizer step number global_step (0-based) is about to use: its LRs, the loss scale its backward
            # uses (the GradScaler updates it inside optimizer.step()), and how far the scheduler lags behind
            self._now = (int(state.global_step), _lrs(optimizer), _loss_scale(optimizer), self._skipped)

    @_never_raises
    def on_step_end(self, args, state, control, **kwargs):
        optimizer = kwargs.get("optimizer") or self._optimizer
        # accelerate: the GradScaler found inf/NaN gradients and skipped optimizer.step(), and the Trainer then skips
        # lr_scheduler.step() too, so the LR falls one step behind the declared schedule for good
        if getattr(optimizer, "step_was_skipped", False) is True:
            self._skipped += 1
            self.skipped_steps = self._skipped

    @_never_raises
    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs or self.reporter is None or state.global_step < 1:
            return
        step = int(state.global_step) - 1  # the last optimizer step done
        scale, lag = None, 0
        if self._now is not None and self._now[0] == step:
            _, lrs, scale, lag = self._now
        else:
            optimizer = kwargs.get("optimizer") or self._optimizer
            lrs = _lrs(optimizer) if optimizer is not None else [logs.get("learning_rate", 0.0)]
        self.reporter.step(step, logs["loss"], _Groups(lrs), grad_norm=logs.get("grad_norm"), epoch=logs.get("epoch", state.epoch),
                           loss_scale=None if scale is None else float(scale), scheduler_lag=lag if lag > 0 else None)

    @_never_raises
    def on_train_end(self, args, state, control, **kwargs):
        _OPEN.discard(self)
        if self.reporter is None:
            return
        self._end_run("completed", max(int(state.global_step) - 1, 0))

    def _end_unfinished(self, status):
        """Ends a run whose trainer.train() never reached on_train_end (it raised)."""
        _OPEN.discard(self)
        try:
            if self.reporter is None:
                return
            self._end_run(status, timeout=5.0)
        except Exception as e:  # noqa: BLE001 - at interpreter exit, nothing to give it back to
            self.client_errors = getattr(self, "client_errors", 0) + 1
            warnings.warn("trainwatch: could not end run (%s: %s)" % (type(e).__name__, e))


def _loss_scale(optimizer):
    """The GradScaler's scale when one is active: accelerate's AcceleratedOptimizer keeps the scaler in .scaler."""
    return _scaler_scale(getattr(optimizer, "scaler", None))
