"""What the Hugging Face and Lightning callbacks share."""


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
