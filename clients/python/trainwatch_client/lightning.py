"""PyTorch Lightning callback:

    from trainwatch_client.lightning import TrainwatchCallback
    trainer = L.Trainer(..., callbacks=[TrainwatchCallback("broker:9092", "my-run")])

Proven against real Lightning 2.6 (torch 2.x, CPU; clients/python/tests/frameworks/lightning_runs.py, run by
LightningITCase through Kafka and the live job): the reported loss equals the ``train_loss`` Lightning logs and the
reported LR the one the optimizer stepped with, at every optimizer step, with gradient accumulation, bf16 autocast,
``frequency`` > 1, a resume from a checkpoint, manual optimization with two optimizers and a 2-process DDP run. No
hook ever raises into training: an error is warned about once and counted in ``client_errors``.

What it reads: at ``on_train_start`` the first optimizer and its scheduler config (``trainer.lr_scheduler_configs``:
the scheduler, ``interval`` "step" or "epoch", ``frequency``), ``accumulate_grad_batches``,
``num_training_batches``, ``gradient_clip_val`` and ``global_step``; at ``on_before_optimizer_step`` (gradients
accumulated, not yet clipped) the total grad norm and every param group's LR; at ``on_train_batch_end`` the loss.

The rules:

- automatic optimization: one step event per optimizer step, step ``global_step - 1``, loss = the mean of its
  micro-batches' losses (Lightning hands over each one divided by ``accumulate_grad_batches``: multiplied back).
  ``frequency`` F > 1 with ``"interval": "step"`` is declared as Lightning counts it (the scheduler steps after an
  optimizer step at batch ``batch_idx`` of an epoch when ``(batch_idx + 1) % F == 0``): the spec carries
  ``batches_per_epoch``, ``accumulate_grad_batches`` and ``frequency``.
- manual optimization (``automatic_optimization = False``, e.g. a GAN stepping two optimizers per batch): one step
  event per training batch, numbered as Lightning's loggers number it (one per batch; ``trainer.global_step`` counts
  every optimizer's steps), with the first optimizer's LRs as they were when it stepped (or at the batch's start if it
  did not) and the loss ``training_step`` returned. Lightning steps no scheduler then (its config's ``interval`` and
  ``frequency`` are not read): the first optimizer's scheduler is declared as stepped once per training batch, which
  is what ``self.lr_schedulers()[0].step()`` in ``training_step`` does; declare ``schedule=`` otherwise.
- a schedule sized in optimizer steps (T_max, total_steps, total_iters or num_training_steps equal to
  ``trainer.estimated_stepping_batches``) but configured ``"interval": "epoch"`` is declared as sized, per step, with
  a warning, so that trainwatch reports the per-epoch stepping (LR_MISMATCH).
- DDP (``world_size`` > 1): every rank reduces the step's loss with ``trainer.strategy.reduce`` (mean) in the same
  hook (on a copy: the module's loss tensor is left as it was), so the loss is the mean across ranks as
  ``self.log(..., sync_dist=True)`` logs it; only the global rank 0 (``trainer.is_global_zero``) sends: one stream per
  run. ``ranks="all"`` (a Reporter keyword) makes every rank send its own loss as ``<run_id>/rank-<k>``.
- an exception out of training sends run_end "failed" (``on_exception``; "killed" for KeyboardInterrupt).
- no ``step_base`` (0): Lightning's loggers write the step of a training batch's metrics as the 0-based count of the
  optimizer steps before it (``_batches_that_stepped``, read before it is incremented: the first optimizer step is
  logged as step 0 in metrics.csv and TensorBoard, measured with Lightning 2.6), which is the step this callback
  reports, so alerts name steps as those logs do. (Checkpoint names, ``step=N``, count the steps done, N = step + 1.)
"""

import math

import warnings

from ._callback import _Groups, _ReportingCallback, _lrs, _never_raises, _scaler_scale, _steps_per_epoch
from .spec import UnsupportedScheduler, spec_from_scheduler

_Base = object
for _module in ("lightning.pytorch", "pytorch_lightning"):  # a real Callback base when Lightning is installed
    try:
        _Base = __import__(_module, fromlist=["Callback"]).Callback
        break
    except ImportError:  # pragma: no cover - depends on the environment
        continue

__all__ = ["TrainwatchCallback"]

# spec arguments that size a schedule in scheduler steps
_HORIZONS = ("T_max", "total_steps", "total_iters", "num_training_steps")


class TrainwatchCallback(_ReportingCallback, _Base):
    """Reports a Lightning run to trainwatch. ``reporter``: an existing :class:`Reporter`; ``schedule``: a spec that
    wins over the scheduler's own; ``batch_ids``: a function batch -> id(s), named when a NaN is blamed on the data;
    other keyword arguments go to :class:`Reporter`."""
    _NO_OP_HOOKS = ("setup", "teardown")

    def __init__(self, bootstrap_servers=None, run_id=None, *, reporter=None, schedule=None, thresholds=None, batch_ids=None,
                 **reporter_kwargs):
        if reporter is None and run_id is None:
            raise ValueError("give run_id (or a reporter)")
        super().__init__(bootstrap_servers, run_id, reporter, schedule, thresholds, reporter_kwargs)
        self._batch_ids = batch_ids
        self._optimizer = None
        self._pending = None  # (grad norm, LRs) captured before the optimizer step
        self._batch_lrs = None  # manual optimization: the first optimizer's LRs at the batch's start
        self._losses = []
        self._reported_global_step = None
        self._manual = False
        self._world_size = 1
        self._batches = 0  # manual optimization: the number of the next step event (Lightning's logger step)

    @_never_raises
    def on_train_start(self, trainer, pl_module):
        # every rank keeps the step boundaries and the losses (DDP: all of them reduce the loss), only rank 0 sends
        self._optimizer = _unwrap(trainer.optimizers[0]) if trainer.optimizers else None
        self._manual = not getattr(pl_module, "automatic_optimization", True)
        self._world_size = int(getattr(trainer, "world_size", 1) or 1)
        self._losses, self._pending, self._batch_lrs = [], None, None
        start = int(trainer.global_step)
        self._reported_global_step = start
        if self._manual:
            loop = getattr(getattr(trainer, "fit_loop", None), "epoch_loop", None)
            # Lightning's loggers step once per batch (_batches_that_stepped, restored on resume); global_step counts every optimizer's steps
            stepped = getattr(loop, "_batches_that_stepped", None)
            self._batches = int(stepped) if isinstance(stepped, int) else start // max(len(trainer.optimizers), 1)
            start = self._batches
        if not self._reports_here(getattr(trainer, "is_global_zero", True)):
            return
        self._open_reporter(self.run_id)
        accum = 1 if self._manual else int(getattr(trainer, "accumulate_grad_batches", 1) or 1)
        batches = getattr(trainer, "num_training_batches", None)
        if not (isinstance(batches, int) or (isinstance(batches, float) and math.isfinite(batches))):
            batches = None
        steps_per_epoch = _steps_per_epoch(int(batches), accum) if batches is not None else None
        clip = getattr(trainer, "gradient_clip_val", None)
        algorithm = getattr(trainer, "gradient_clip_algorithm", "norm") or "norm"
        grad_clip = float(clip) if clip and str(getattr(algorithm, "value", algorithm)) == "norm" else None
        shape = dict(grad_accum_steps=accum, steps_per_epoch=steps_per_epoch, grad_clip=grad_clip, thresholds=self._thresholds, start_step=start)
        scheduler, interval, frequency = _scheduler_config(trainer)
        if self._schedule is not None or scheduler is None:
            self.reporter.run_start(self._optimizer, None, schedule=self._schedule, **shape)
            return
        try:
            if self._manual:
                # Lightning steps no scheduler (and defaults "interval" to "epoch" unasked): the user's training_step
                # steps it, assumed once per training batch (see the module's docstring)
                interval, frequency = "step", 1
            if interval == "epoch" and steps_per_epoch is None:
                raise UnsupportedScheduler('"interval": "epoch" with an unsized train loader: trainwatch cannot tell how many optimizer '
                                           "steps an epoch has; pass schedule= explicitly")
            if interval == "epoch" and _sized_in_steps(scheduler, trainer):
                warnings.warn("trainwatch: the scheduler is sized in optimizer steps (%d) but configured with \"interval\": \"epoch\": "
                              "declared as sized, stepped after every optimizer step" % _sized_in_steps(scheduler, trainer), stacklevel=2)
                interval, frequency = "step", 1
            if interval == "step" and frequency != 1:
                if batches is None:
                    raise UnsupportedScheduler("frequency %d with an unsized train loader: Lightning counts it in the batches of "
                                               "each epoch, which trainwatch cannot tell; pass schedule= explicitly" % frequency)
                spec = _lightning_frequency_spec(scheduler, int(batches), accum, frequency, start)
                self.reporter.run_start(self._optimizer, None, schedule=spec, **shape)
            else:
                self.reporter.run_start(self._optimizer, scheduler, interval=interval, frequency=frequency, **shape)
        except UnsupportedScheduler as e:
            # a scheduler trainwatch cannot reproduce: the run is still watched, without schedule checks
            warnings.warn("trainwatch: no schedule declared (the LR is not checked): %s" % e, stacklevel=2)
            self.reporter.run_start(self._optimizer, None, **shape)

    @_never_raises
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx, *args):
        if self._manual and self._optimizer is not None:
            self._batch_lrs = _lrs(self._optimizer)

    @_never_raises
    def on_before_optimizer_step(self, trainer, pl_module, optimizer, *args):
        if self._manual and (self._pending is not None or _unwrap(optimizer) is not self._optimizer):
            return  # manual optimization: the first optimizer's first step of the batch, the one whose schedule is declared
        # gradients are accumulated (and unscaled under AMP); clipping comes after this hook
        norm = self.reporter._grad_norm(pl_module) if self.reporter is not None else None
        # 16-mixed: the scale this step's gradients were scaled by (the precision plugin updates it after the step)
        scale = _scaler_scale(getattr(getattr(trainer, "precision_plugin", None), "scaler", None))
        self._pending = (norm, _lrs(optimizer), optimizer, scale)

    @_never_raises
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *args):
        if self._reported_global_step is None:
            return  # on_train_start did not run
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            loss = loss.detach() if hasattr(loss, "detach") else loss
            # automatic optimization hands over the loss it back-propagated: divided by accumulate_grad_batches; undone, so
            # the step's loss is the mean of its micro-batches' losses as the module computed them
            accum = 1 if self._manual else int(getattr(trainer, "accumulate_grad_batches", 1) or 1)
            self._losses.append(loss * accum if accum != 1 else loss)
        if self._manual:
            step = self._batches
            self._batches += 1
            pending, self._pending = self._pending, None
            norm, lrs, scale = (pending[0], pending[1], pending[3]) if pending is not None else (None, self._batch_lrs, None)
        else:
            g = int(trainer.global_step)
            if g <= self._reported_global_step:
                return  # no optimizer step since the last report (accumulating)
            self._reported_global_step = g
            step = g - 1
            pending, self._pending = self._pending, None
            norm, lrs, scale = (pending[0], pending[1], pending[3]) if pending is not None else (None, None, None)
        losses, self._losses = self._losses, []
        if not losses:
            return
        step_loss = losses[0] if len(losses) == 1 else _mean(losses)
        if self._world_size > 1 and not self._per_rank:
            # every rank reaches this line at the same optimizer step (the same global_step), so none waits forever
            step_loss = _reduce_mean(trainer, step_loss)
        if self.reporter is None:
            return
        groups = _Groups(lrs) if lrs is not None else self._optimizer
        epoch = getattr(trainer, "current_epoch", None)
        self.reporter.step(step, step_loss, groups, grad_norm=norm, epoch=epoch, loss_scale=None if scale is None else float(scale),
                           batch=self._batch_ids(batch) if self._batch_ids is not None else None)

    @_never_raises
    def on_train_end(self, trainer, pl_module):
        self._end(trainer, "completed")

    @_never_raises
    def on_exception(self, trainer, pl_module, exception):
        self._end(trainer, "killed" if isinstance(exception, KeyboardInterrupt) else "failed")

    def _end(self, trainer, status):
        if self.reporter is None:
            return
        last = self._batches - 1 if self._manual else int(trainer.global_step) - 1
        self._end_run(status, max(last, 0))


def _unwrap(optimizer):
    """The torch optimizer inside Lightning's LightningOptimizer."""
    return getattr(optimizer, "_optimizer", optimizer)


def _reduce_mean(trainer, loss):
    import torch
    t = loss if isinstance(loss, torch.Tensor) else torch.tensor(float(loss))
    # a copy: the reduction is in place (all_reduce), and the tensor is the one the module returned, which others read too
    return trainer.strategy.reduce(t.detach().float().clone(), reduce_op="mean")


def _lightning_frequency_spec(scheduler, batches, accum, frequency, start):
    """The scheduler's spec, stepped as Lightning steps a step-interval scheduler with this frequency, from optimizer
    step ``start`` on (a resume: the scheduler restored with the checkpoint is at its index, so the spec starts from the
    index that gives it at ``start``)."""
    spec = spec_from_scheduler(scheduler)
    spec["batches_per_epoch"] = batches
    spec["frequency"] = frequency
    if accum != 1:
        spec["accumulate_grad_batches"] = accum
    params = spec["params"]
    if "last_epoch" in params:
        last_epoch = params["last_epoch"] - lightning_calls_before(start, batches, accum, frequency)
        if last_epoch < -1:
            warnings.warn("trainwatch: the scheduler is at index %d but the run is at optimizer step %d: it was not restored on resume; "
                          "declaring the uninterrupted schedule" % (params["last_epoch"] + 1, start), stacklevel=3)
            last_epoch = -1
        params["last_epoch"] = last_epoch
    return spec


def lightning_calls_before(step, batches, accum, frequency):
    """scheduler.step() calls Lightning makes before optimizer step ``step`` for an ``"interval": "step"`` scheduler
    with ``frequency``, ``batches`` batches per epoch and ``accumulate_grad_batches`` ``accum`` (what the job computes
    from the spec: io.trainwatch.schedule.SchedulerStepping.LightningFrequency)."""
    per_epoch = -(-batches // accum)
    period = frequency // math.gcd(accum, frequency)
    calls_per_epoch = (per_epoch - 1) // period + (1 if batches % frequency == 0 else 0)
    return (step // per_epoch) * calls_per_epoch + (step % per_epoch) // period


def _sized_in_steps(scheduler, trainer):
    """The scheduler's horizon when it equals the run's optimizer steps (and not its epochs), else 0."""
    total = getattr(trainer, "estimated_stepping_batches", None)
    epochs = getattr(trainer, "max_epochs", None)
    if not isinstance(total, int) or total <= 1 or total == epochs:
        return 0
    try:
        params = spec_from_scheduler(scheduler)["params"]
    except UnsupportedScheduler:
        return 0
    lam = params.get("lr_lambda") if isinstance(params.get("lr_lambda"), dict) else {}
    for name in _HORIZONS:
        value = params.get(name, lam.get(name))
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == total:
            return total
    return 0


def _scheduler_config(trainer):
    """(scheduler, interval, frequency) of the first LR scheduler (Lightning >= 1.6 config objects, or older dicts)."""
    configs = getattr(trainer, "lr_scheduler_configs", None)
    if configs is None:
        configs = getattr(trainer, "lr_schedulers", None) or []
    if not configs:
        return None, "step", 1
    c = configs[0]
    get = (lambda k, d=None: c.get(k, d)) if isinstance(c, dict) else (lambda k, d=None: getattr(c, k, d))
    interval = get("interval", "epoch") or "epoch"  # Lightning's default interval is "epoch"
    return get("scheduler"), interval, int(get("frequency", 1) or 1)


def _mean(values):
    try:
        import torch
        if all(hasattr(v, "detach") for v in values):
            return torch.stack([v.float() for v in values]).mean()
    except ImportError:  # pragma: no cover
        pass
    return sum(float(v) for v in values) / len(values)
