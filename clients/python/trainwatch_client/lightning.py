"""PyTorch Lightning callback:

    from trainwatch_client.lightning import TrainwatchCallback
    trainer = L.Trainer(..., callbacks=[TrainwatchCallback("broker:9092", "my-run")])

Its logic is unit-tested with small fakes of the Trainer attributes it reads; not yet against a real Lightning run
(see the README). No hook ever raises into training: an error is warned about once and counted in ``client_errors``.
Only the global rank 0 (``trainer.is_global_zero``) reports.

What it reads: at ``on_train_start`` the first optimizer and its scheduler config (``trainer.lr_scheduler_configs``:
the scheduler, ``interval`` "step" or "epoch", ``frequency``), ``accumulate_grad_batches``,
``num_training_batches``, ``gradient_clip_val`` and ``global_step``; at ``on_before_optimizer_step`` (gradients
accumulated, not yet clipped) the total grad norm and every param group's LR; at ``on_train_batch_end`` the loss
(the mean of the micro-batches of that optimizer step), reported once per optimizer step as step
``global_step - 1``.
"""

import math

import warnings

from ._callback import _Groups, _never_raises, _no_op
from .reporter import Reporter
from .spec import UnsupportedScheduler

_Base = object
for _module in ("lightning.pytorch", "pytorch_lightning"):  # a real Callback base when Lightning is installed
    try:
        _Base = __import__(_module, fromlist=["Callback"]).Callback
        break
    except ImportError:  # pragma: no cover - depends on the environment
        continue

__all__ = ["TrainwatchCallback"]


class TrainwatchCallback(_Base):
    """Reports a Lightning run to trainwatch. ``reporter``: an existing :class:`Reporter`; ``schedule``: a spec that
    wins over the scheduler's own; ``batch_ids``: a function batch -> id(s), named when a NaN is blamed on the data;
    other keyword arguments go to :class:`Reporter`."""

    def __init__(self, bootstrap_servers=None, run_id=None, *, reporter=None, schedule=None, thresholds=None, batch_ids=None,
                 **reporter_kwargs):
        if reporter is None and run_id is None:
            raise ValueError("give run_id (or a reporter)")
        self.bootstrap_servers = bootstrap_servers
        self.run_id = run_id
        self.reporter = reporter
        self._own_reporter = reporter is None
        self._schedule = schedule
        self._thresholds = thresholds
        self._batch_ids = batch_ids
        self._reporter_kwargs = reporter_kwargs
        self._optimizer = None
        self._module = None
        self._pending = None  # (grad norm, LRs) captured before the optimizer step
        self._losses = []
        self._reported_global_step = None

    def __getattr__(self, name):
        if name.startswith("on_") or name in ("setup", "teardown"):
            return _no_op
        raise AttributeError(name)

    @_never_raises
    def on_train_start(self, trainer, pl_module):
        if not getattr(trainer, "is_global_zero", True):
            self.reporter = None  # one stream per run: only the global rank 0 reports
            return
        if self.reporter is None:
            self.reporter = Reporter(self.bootstrap_servers, self.run_id, **self._reporter_kwargs)
        self._module = pl_module
        self._optimizer = trainer.optimizers[0] if trainer.optimizers else None
        accum = int(getattr(trainer, "accumulate_grad_batches", 1) or 1)
        batches = getattr(trainer, "num_training_batches", None)
        steps_per_epoch = None
        if isinstance(batches, int) or (isinstance(batches, float) and math.isfinite(batches)):
            steps_per_epoch = max(math.ceil(int(batches) / accum), 1)  # Lightning steps the optimizer on the last partial window too
        clip = getattr(trainer, "gradient_clip_val", None)
        algorithm = getattr(trainer, "gradient_clip_algorithm", "norm") or "norm"
        grad_clip = float(clip) if clip and str(getattr(algorithm, "value", algorithm)) == "norm" else None
        scheduler, interval, frequency = _scheduler_config(trainer)
        start = int(trainer.global_step)
        self._reported_global_step = start
        if self._schedule is not None or scheduler is None:
            self.reporter.run_start(self._optimizer, None, grad_accum_steps=accum, steps_per_epoch=steps_per_epoch, grad_clip=grad_clip,
                                    schedule=self._schedule, thresholds=self._thresholds, start_step=start)
            return
        try:
            if interval == "epoch" and steps_per_epoch is None:
                raise UnsupportedScheduler('"interval": "epoch" with an unsized train loader: trainwatch cannot tell how many optimizer '
                                           "steps an epoch has; pass schedule= explicitly")
            self.reporter.run_start(self._optimizer, scheduler, grad_accum_steps=accum, steps_per_epoch=steps_per_epoch, grad_clip=grad_clip,
                                    interval=interval, frequency=frequency, thresholds=self._thresholds, start_step=start)
        except UnsupportedScheduler as e:
            # a scheduler trainwatch cannot reproduce: the run is still watched, without schedule checks
            warnings.warn("trainwatch: no schedule declared (the LR is not checked): %s" % e, stacklevel=2)
            self.reporter.run_start(self._optimizer, None, grad_accum_steps=accum, steps_per_epoch=steps_per_epoch, grad_clip=grad_clip,
                                    thresholds=self._thresholds, start_step=start)

    @_never_raises
    def on_before_optimizer_step(self, trainer, pl_module, optimizer, *args):
        # gradients are accumulated (and unscaled under AMP); clipping comes after this hook
        norm = self.reporter._grad_norm(pl_module) if self.reporter is not None else None
        self._pending = (norm, [g["lr"] for g in optimizer.param_groups], optimizer)

    @_never_raises
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *args):
        if self.reporter is None:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            # Lightning hands over the loss it back-propagated: divided by accumulate_grad_batches; undone, so the step's
            # loss is the mean of its micro-batches' losses as the module computed them
            accum = int(getattr(trainer, "accumulate_grad_batches", 1) or 1)
            loss = loss.detach() if hasattr(loss, "detach") else loss
            self._losses.append(loss * accum if accum != 1 else loss)
        g = int(trainer.global_step)
        if self.reporter is None or self._reported_global_step is None or g <= self._reported_global_step:
            return  # no optimizer step since the last report (accumulating)
        self._reported_global_step = g
        norm, lrs, optimizer = self._pending if self._pending is not None else (None, None, self._optimizer)
        self._pending = None
        if not self._losses:
            return
        losses, self._losses = self._losses, []
        step_loss = losses[0] if len(losses) == 1 else _mean(losses)
        groups = _Groups(lrs) if lrs is not None else optimizer
        epoch = getattr(trainer, "current_epoch", None)
        self.reporter.step(g - 1, step_loss, groups, grad_norm=norm, epoch=epoch,
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
        self.reporter.run_end(status, max(int(trainer.global_step) - 1, 0))
        if self._own_reporter:
            self.reporter.close()
            self.reporter = None  # a second fit() starts a new one


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
