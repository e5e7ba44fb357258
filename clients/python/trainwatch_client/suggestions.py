"""Suggestions: the alerts trainwatch wrote for one run (alert format v1), read committed, and an opt-in way to act on them."""

import queue
import threading
import time

from ._kafka import CommittedReader, parse_json_object

__all__ = ["Suggestions"]

_STOP = object()


class Suggestions:
    """Alerts of run ``run_id`` from ``topic``, read with read_committed semantics (the job writes them in Kafka
    transactions), each record once (an incident's updates and a refined suggestion are records of their own).
    A background thread reads; the training loop never waits:

        suggestions = Suggestions("broker:9092", run_id)
        ...
        for alert in suggestions.poll():          # non-blocking: what arrived since the last call
            clip = suggestions.apply(alert, optimizer, scheduler)

    or ``for alert in suggestions.iter(timeout=60): ...`` to wait for them. ``from_beginning``: also the alerts
    written before this object was created (default True).
    """

    def __init__(self, bootstrap_servers, run_id, topic="trainwatch.alerts", *, from_beginning=True, backend="auto",
                 client_config=None, reader=None):
        self.run_id = run_id
        self.topic = topic
        self.received = 0
        self.last_error = None
        self._key = run_id.encode("utf-8")
        self._seen = set()
        self._applied = set()
        self._alerts = queue.SimpleQueue()
        self._stopping = threading.Event()
        # reader: anything with poll(timeout) -> [(key, value)] and close() (tests); by default Kafka
        self._reader = reader if reader is not None else CommittedReader(bootstrap_servers, topic, from_beginning, backend, client_config)
        self.backend = getattr(self._reader, "backend", "custom")
        self._thread = threading.Thread(target=self._run, name="trainwatch-suggestions-" + run_id[:40], daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while not self._stopping.is_set():
                for key, value in self._reader.poll(0.2):
                    if key is not None and key != self._key:
                        continue
                    alert = parse_json_object(value)  # None for transaction markers (kafka-python 2.0 yields them)
                    if alert is None or alert.get("run_id") != self.run_id:
                        continue
                    # an alert_id has one open, one resolved, and updates that differ in occurrences or step (an
                    # incident's count, a refined suggestion): the same four again is a rewritten aborted transaction
                    seen = (alert.get("alert_id"), alert.get("status"), alert.get("occurrences"), alert.get("step"))
                    if seen in self._seen:
                        continue
                    self._seen.add(seen)
                    self.received += 1
                    self._alerts.put(alert)
        except Exception as e:  # reported through last_error and the iterators ending
            self.last_error = str(e)
        finally:
            self._alerts.put(_STOP)
            try:
                self._reader.close()
            except Exception:
                pass

    def poll(self):
        """The alerts that arrived since the last call (possibly none); never waits."""
        out = []
        while True:
            try:
                a = self._alerts.get_nowait()
            except queue.Empty:
                return out
            if a is _STOP:
                self._alerts.put(_STOP)
                return out
            out.append(a)

    def iter(self, timeout=None):
        """Yields alerts as they arrive, for at most ``timeout`` seconds in total (None: until close())."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                return
            try:
                a = self._alerts.get(timeout=wait)
            except queue.Empty:
                return
            if a is _STOP:
                self._alerts.put(_STOP)
                return
            yield a

    def __iter__(self):
        return self.iter()

    def apply(self, alert, optimizer, scheduler=None):
        """Acts on one alert's suggestion, once per alert (opt-in: call it for the alerts you want followed).

        * ``lower_lr``: multiplies the LR of every param group by ``suggestion.lr_factor`` (or by ``new_lr`` / the
          first group's LR); with ``scheduler`` its base LRs too, so the scheduler keeps the lower level.
        * ``clip_grad_norm``: returns ``suggestion.max_norm``, to pass to ``torch.nn.utils.clip_grad_norm_``.
          (Its other advice, halving the LR and rewinding, is left to you.)

        Returns the clip threshold (a float) for clip_grad_norm suggestions, else None. Resolved alerts and other
        actions change nothing. After lowering the LR, declare it again (a new run_start) or trainwatch will see the LR
        leave the declared schedule.
        """
        if alert.get("status") == "resolved":
            return None
        s = alert.get("suggestion") or {}
        action = s.get("action")
        key = (alert.get("alert_id"), alert.get("status"), alert.get("occurrences"), alert.get("step"), action)
        if key in self._applied:
            return None
        if action == "clip_grad_norm" and s.get("max_norm") is not None:
            self._applied.add(key)
            return float(s["max_norm"])
        if action != "lower_lr":
            return None
        groups = optimizer.param_groups
        if s.get("lr_factor") is not None:
            factor = float(s["lr_factor"])
        elif s.get("new_lr") is not None and groups and groups[0]["lr"] > 0:
            factor = float(s["new_lr"]) / float(groups[0]["lr"])
        else:
            return None
        if not 0 < factor < 1:
            return None  # "lower": never raise the LR from an alert
        self._applied.add(key)
        for g in groups:
            g["lr"] = g["lr"] * factor
            if "initial_lr" in g:
                g["initial_lr"] = g["initial_lr"] * factor
        if scheduler is not None:
            _scale_scheduler(scheduler, factor)
        return None

    def close(self, timeout=5.0):
        self._stopping.set()
        self._thread.join(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _scale_scheduler(s, factor):
    """Scales the LR levels a scheduler computes from, so that its next step keeps the lower LR."""
    for child in getattr(s, "_schedulers", None) or []:
        _scale_scheduler(child, factor)
    if isinstance(getattr(s, "base_lrs", None), list):
        s.base_lrs = [b * factor for b in s.base_lrs]
    if isinstance(getattr(s, "max_lrs", None), list):  # CyclicLR
        s.max_lrs = [m * factor for m in s.max_lrs]
    if type(s).__name__ == "OneCycleLR":
        for g in s.optimizer.param_groups:
            for k in ("max_lr", "min_lr"):
                if k in g:
                    g[k] = g[k] * factor
