"""What the Hugging Face and Lightning callbacks share."""

import math

from .reporter import Reporter


class _ReportingCallback:
    """The part of both callbacks that holds the :class:`Reporter`: the one given, or one made when training starts
    and closed when the run ends. Listed before the framework's base class, whose hooks it does not replace."""
    _NO_OP_HOOKS = ()  # hook names besides on_* that the framework calls

    def __init__(self, bootstrap_servers, run_id, reporter, schedule, thresholds, reporter_kwargs):
        self.bootstrap_servers = bootstrap_servers
        self.run_id = run_id
        self.reporter = reporter
        self._own_reporter = reporter is None
        self._schedule = schedule
        self._thresholds = thresholds
        self._reporter_kwargs = reporter_kwargs

    def __getattr__(self, name):
        # without the framework installed there is no base class to inherit the other hooks from
        if name.startswith("on_") or name in self._NO_OP_HOOKS:
            return _no_op
        raise AttributeError(name)

    @property
    def _per_rank(self):
        """ranks="all" (a Reporter keyword): every rank reports its own stream, as <run_id>/rank-<k>."""
        return self._reporter_kwargs.get("ranks", "zero") == "all"

    def _reports_here(self, is_main_process):
        """One stream per run: only the main process reports (ranks="all": each rank, <run_id>/rank-<k>); elsewhere the
        callback lets go of its reporter."""
        if is_main_process or self._per_rank:
            return True
        self.reporter = None
        return False

    def _open_reporter(self, run_id):
        if self.reporter is None:
            self.reporter = Reporter(self.bootstrap_servers, run_id, **self._reporter_kwargs)

    def _end_run(self, status, step=None, **close_kwargs):
        """Sends run_end (``step`` None: at the last step reported) and closes a Reporter of our own, so that training
        started again makes a new one."""
        self.reporter.run_end(status, step)
        if self._own_reporter:
            self.reporter.close(**close_kwargs)
            self.reporter = None


def _lrs(optimizer):
    """The LR of every param group."""
    return [g["lr"] for g in optimizer.param_groups]


def _steps_per_epoch(batches, accum):
    """Optimizer steps in an epoch of ``batches`` batches: the trainers step on a last partial window too."""
    return max(math.ceil(batches / accum), 1)


class _Groups:
    """Stands in for an optimizer: the Reporter reads only param_groups' lr."""
    __slots__ = ("param_groups",)

    def __init__(self, lrs):
        self.param_groups = [{"lr": lr} for lr in lrs]


def _no_op(*args, **kwargs):
    return None


def _never_raises(hook):
    """A callback hook that can never break training: whatever goes wrong in it (a broker down, a framework attribute
    that moved, a bug here) is warned about once per hook and counted in ``client_errors``, and training goes on."""
    import functools
    import warnings

    @functools.wraps(hook)
    def guarded(self, *args, **kwargs):
        try:
            return hook(self, *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - a monitor must never stop the run it watches
            self.client_errors = getattr(self, "client_errors", 0) + 1
            warned = self.__dict__.setdefault("_warned_hooks", set())
            if hook.__name__ not in warned:
                warned.add(hook.__name__)
                warnings.warn("trainwatch: %s failed (%s: %s); training goes on, this run may be reported incompletely"
                              % (hook.__name__, type(e).__name__, e), stacklevel=2)
            return None
    return guarded


def _scaler_scale(scaler):
    """A GradScaler's current scale when it is active, else None. Kept as a tensor copy, not read with .item(): no
    device sync per step; the value is read when the event is encoded."""
    if scaler is None or not getattr(scaler, "is_enabled", lambda: True)():
        return None
    t = getattr(scaler, "_scale", None)  # None before the first scale(): get_scale() then gives the initial scale
    return t.detach().clone() if hasattr(t, "detach") else scaler.get_scale()
