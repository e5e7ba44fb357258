"""Reporter: sends one run's events (event format v1) to Kafka without ever blocking the training step."""

import atexit
import json
import logging
import math
import os
import queue
import sys
import threading
import time
import warnings
import weakref

from ._kafka import Producer, choose_backend
from .spec import spec_from_scheduler

__all__ = ["Reporter", "JsonLinesSink"]

log = logging.getLogger("trainwatch_client")

CLIENT = "trainwatch_client 0.1.0"
# the job refuses more batch ids per event, and longer ids (EventCodec)
MAX_BATCH_IDS = 256
MAX_ID_CHARS = 256
_PRODUCER_RETRY_S = 5.0
LINGER_S = 0.05
_STOP = object()


class JsonLinesSink:
    """Writes each event as one line of a file instead of Kafka (for ``trainwatch replay --input FILE``, or tests)."""

    def __init__(self, path):
        self._f = open(path, "a", encoding="utf-8")

    def __call__(self, key, value):
        self._f.write(value.decode("utf-8") + "\n")

    def close(self):
        self._f.close()


class Reporter:
    """One training run's events to Kafka topic ``topic`` (key = run_id).

    ``step()`` costs a few microseconds plus the grad-norm computation when a model is given: it reads the LR of
    every param group, puts the values in a bounded queue and returns; a background thread encodes them
    (``json.dumps``: NaN/Infinity written bare, which the job accepts) and hands them to the Kafka client. When the
    queue is full (Kafka unreachable or slow) step events are dropped, never waited for: ``dropped`` counts them.
    ``run_start`` and ``run_end`` are never dropped.

    Counters (read them any time): ``dropped`` (step events dropped, queue full), ``sent`` (handed to the Kafka
    client), ``send_errors`` (events the Kafka client refused to take, or that could not be encoded: lost),
    ``delivered`` / ``failed`` (acknowledged by / refused by the broker), ``queued`` (waiting now), ``last_error``.

    Contract: no Kafka or network trouble ever raises from ``step``, ``run_start``, ``run_end`` or ``close`` (it is
    counted); they raise only for wrong arguments (ValueError) and, in ``run_start``, for a scheduler trainwatch
    cannot reproduce (UnsupportedScheduler, before training: declare ``schedule=`` yourself).

    ``backend``: "auto" (confluent-kafka if installed, else kafka-python), "confluent" or "kafka-python";
    ``client_config``: extra settings for that client, in its own spelling (security settings, for example);
    ``sink``: a callable(key: bytes, value: bytes) used instead of Kafka (see :class:`JsonLinesSink`).

    Distributed training (torch.distributed initialized, or a launcher such as torchrun that set ``RANK`` and
    ``WORLD_SIZE``), one stream per run: with ``ranks="zero"`` (the default) only global rank 0 reports; on every
    other rank the Reporter is a no-op (``active`` is False) that never opens a Kafka connection, so every rank can
    run the same code. The loss rank 0 sends is the one you pass it: pass the loss reduced over the ranks, or set
    ``reduce_loss=True`` to have ``step()`` average it over the process group (an all_reduce: then every rank must
    call ``step()`` for every step, or the ranks wait for each other forever). With ``ranks="all"`` every rank
    reports, under its own run id ``<run_id>/rank-<k>``, a run of its own for trainwatch (rank-level checks).
    The rank is read when the Reporter is built: build it after ``init_process_group`` (under torchrun, which sets
    ``RANK``, anywhere), or every process spawned without ``RANK`` takes itself for rank 0.
    """

    def __init__(self, bootstrap_servers=None, run_id=None, topic="trainwatch.events", *, backend="auto", client_config=None,
                 queue_size=10000, sink=None, ranks="zero", reduce_loss=False):
        if not isinstance(run_id, str) or not run_id or len(run_id) > 256:
            raise ValueError("run_id must be a string of 1 to 256 characters, got %r" % (run_id,))
        # --- distributed: which rank reports, under which run id (see the class docstring) ---
        if ranks not in ("zero", "all"):
            raise ValueError('ranks must be "zero" (only global rank 0 reports) or "all" (every rank, as <run_id>/rank-<k>), got %r'
                             % (ranks,))
        self.rank, self.world_size = _process_rank()
        self.ranks = ranks
        self.active = ranks == "all" or self.rank == 0
        self._reduce_loss = bool(reduce_loss) and self.world_size > 1
        self._reduce_warned = False
        if ranks == "all" and self.world_size > 1:
            run_id = "%s/rank-%d" % (run_id, self.rank)
            if len(run_id) > 256:
                raise ValueError("run_id with its rank suffix is longer than 256 characters: %r" % (run_id,))
        if sink is None and not bootstrap_servers:
            raise ValueError("give bootstrap_servers (host:port) or a sink")
        if queue_size < 1:
            raise ValueError("queue_size must be >= 1")
        if not self.active:
            self._init_inactive(run_id, topic)
            return
        self.run_id = run_id
        self.topic = topic
        self.dropped = 0
        self.sent = 0
        self.send_errors = 0
        self.last_error = None
        self._key = run_id.encode("utf-8")
        self._queue = queue.SimpleQueue()
        self._queue_size = queue_size
        self._sink = sink
        self._sink_delivered = 0
        self._producer = None
        self._producer_args = (bootstrap_servers, backend, client_config)
        if sink is None:
            self.backend = choose_backend(backend)  # a missing client library fails here, not later in the thread
        else:
            self.backend = "sink"
        self._pending_start = None
        self._started = False
        self._ended = False
        self._closed = False
        self._last_step = None
        self._params_of = None
        self._params = None
        self._torch = None
        self._close_result = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trainwatch-reporter-" + run_id[:40], daemon=True)
        self._thread.start()
        ref = weakref.ref(self)
        self._atexit = lambda: ref() is not None and ref().close(timeout=5.0)
        atexit.register(self._atexit)

    def _init_inactive(self, run_id, topic):
        """A rank that does not report: counters at zero, no queue thread, no producer, no Kafka client imported."""
        self.run_id = run_id
        self.topic = topic
        self.backend = None
        self.dropped = self.sent = self.send_errors = 0
        self.last_error = None
        self._sink = self._producer = None
        self._started = self._ended = self._closed = False
        self._pending_start = None
        self._close_result = True

    def _mean_over_ranks(self, loss):
        """reduce_loss=True: the loss averaged over the process group (every rank calls this, once per step). Should the
        collective fail, the local loss is sent and a warning says so once: reporting never stops training."""
        try:
            import torch
            import torch.distributed as dist
            if hasattr(loss, "detach"):
                t = loss.detach().reshape(()).clone()
            else:
                t = torch.tensor(float(loss), dtype=torch.float64)
                if dist.get_backend() == "nccl":
                    t = t.cuda()  # NCCL reduces only tensors on the GPU
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            return t / self.world_size
        except Exception as e:  # noqa: BLE001
            self.last_error = "could not average the loss over the ranks: %s" % (e,)
            if not self._reduce_warned:
                self._reduce_warned = True
                warnings.warn("trainwatch: %s; reporting this rank's loss" % self.last_error, stacklevel=3)
            return loss

    # ---------------------------------------------------------------------------------------------------------------
    # the three events
    # ---------------------------------------------------------------------------------------------------------------

    def run_start(self, optimizer, scheduler=None, grad_accum_steps=1, steps_per_epoch=None, grad_clip=None, interval="step", *,
                  frequency=1, schedule=None, start_step=None, thresholds=None, step_base=None):
        """Declares the run: the schedule spec of ``scheduler`` (or ``schedule``, a spec you write yourself, which wins),
        how it is stepped and the run's shape.

        ``interval``: "step" if ``scheduler.step()`` is called after every optimizer step, "epoch" if once per epoch
        (then ``steps_per_epoch`` = optimizer steps per epoch is required); ``frequency``: every that many intervals.
        ``grad_accum_steps``: micro-batches per optimizer step. ``grad_clip``: the max_norm you clip to, if any.

        ``start_step``: the number of the first step you will report; by default the one given to the first
        ``step()`` call, so a resumed run that reports its global step numbers is declared right without it: the spec of
        a scheduler restored from a checkpoint says where it is (``last_epoch``), and the run_start is sent with the
        first step so that spec step ``start_step`` is the scheduler's current index. A scheduler behind the steps (built
        anew on resume instead of restored) is declared as the uninterrupted schedule, so that trainwatch flags it.

        ``step_base``: what your own logs add to the optimizer step you report (0 or 1), so that alert messages name
        steps as your logs do: 1 when they count the steps done, as HF's ``global_step`` does (the Hugging Face
        callback sends 1). The steps you report stay 0-based optimizer steps either way.
        """
        if self._started or self._pending_start is not None:
            raise RuntimeError("run_start was already called for run %s" % self.run_id)
        if interval not in ("step", "epoch"):
            raise ValueError('interval must be "step" or "epoch", got %r' % (interval,))
        grad_accum_steps = int(grad_accum_steps)
        if grad_accum_steps < 1:
            raise ValueError("grad_accum_steps must be >= 1")
        if steps_per_epoch is not None and int(steps_per_epoch) < 1:
            raise ValueError("steps_per_epoch must be >= 1")
        if interval == "epoch" and steps_per_epoch is None:
            raise ValueError('interval "epoch" needs steps_per_epoch (optimizer steps per epoch)')
        if int(frequency) < 1:
            raise ValueError("frequency must be >= 1")
        if step_base is not None and (isinstance(step_base, bool) or step_base not in (0, 1)):
            raise ValueError("step_base must be 0 or 1 (your logs count steps from 0, or count the steps done as HF's "
                             "global_step does), got %r" % (step_base,))
        event = {"type": "run_start", "run_id": self.run_id, "time": _now_ms(), "grad_accum_steps": grad_accum_steps,
                 "optimizer": _optimizer_name(optimizer), "client": CLIENT}
        if steps_per_epoch is not None:
            event["steps_per_epoch"] = int(steps_per_epoch)
        if grad_clip is not None and 0 < float(grad_clip) < math.inf:
            event["grad_clip"] = float(grad_clip)
        if thresholds:
            event["thresholds"] = dict(thresholds)
        if step_base is not None:
            event["step_base"] = int(step_base)
        relative = None
        every = 1
        if schedule is not None:
            _check_base_lrs(schedule, optimizer)
            event["schedule"] = schedule
        elif scheduler is not None:
            spec = spec_from_scheduler(scheduler)
            if interval == "epoch":
                spec["interval"] = "epoch"
                spec["steps_per_epoch"] = int(steps_per_epoch)
                every = int(steps_per_epoch)
            if int(frequency) != 1:
                spec["frequency"] = int(frequency)
            every *= int(frequency)
            event["schedule"] = spec
            if "last_epoch" in spec["params"]:
                relative = spec["params"]["last_epoch"]
        if not self.active:
            return  # checked and read like rank 0 (so every rank raises alike), not sent
        self._pending_start = (event, relative, every)
        if start_step is not None:
            self._emit_start(int(start_step))

    def _emit_start(self, first_step):
        event, relative, every = self._pending_start
        self._pending_start = None
        self._started = True
        if relative is not None:
            # spec step 0 is the next optimizer step; the reported steps start at first_step
            last_epoch = relative - first_step // every
            if last_epoch < -1:
                warnings.warn("trainwatch: the scheduler is at index %d but the run reports step %d: it was not restored on "
                              "resume (load scheduler.state_dict() with the checkpoint); declaring the uninterrupted schedule"
                              % (relative + 1, first_step), stacklevel=3)
                last_epoch = -1
                # the uninterrupted schedule: not the one a resume construction left
                event["schedule"]["params"].pop("kept_lr_at_last_epoch", None)
            event["schedule"]["params"]["last_epoch"] = last_epoch
        self._queue.put(("event", event))

    def step(self, step, loss, optimizer, model=None, batch=None, *, grad_norm=None, epoch=None, loss_scale=None, scheduler_lag=None):
        """Records optimizer step ``step``: its loss (a float or a tensor), the LR of every param group of ``optimizer``,
        and the total L2 grad norm over ``model``'s parameters (computed only when ``model`` is given and ``grad_norm``
        is not; pass the value ``clip_grad_norm_`` returned to skip the computation). Call it after ``backward()`` and
        before ``scheduler.step()`` (so the LRs are the ones this step used) and before ``zero_grad()``.
        ``batch``: the id(s) of the samples or shard of this batch, named when a NaN is blamed on the data.
        ``scheduler_lag``: how many optimizer steps so far the LR scheduler has not followed (fp16 overflow skips), sent
        when given.
        Returns False when the event was dropped (queue full); True on a rank that does not report."""
        if self._reduce_loss:
            loss = self._mean_over_ranks(loss)
        if not self.active:
            return True
        if self._pending_start is not None:
            self._emit_start(step)
        elif not self._started:
            self._started = True  # no run_start: the job checks what it can without a schedule
        if grad_norm is None and model is not None:
            grad_norm = self._grad_norm(model)
        if hasattr(loss, "detach"):
            loss = loss.detach()
        lrs = [g["lr"] for g in optimizer.param_groups]
        self._last_step = step
        if self._queue.qsize() >= self._queue_size:
            self.dropped += 1
            return False
        self._queue.put(("step", step, time.time(), loss, grad_norm, lrs, epoch, batch, loss_scale, scheduler_lag))
        return True

    def run_end(self, status="completed", step=None):
        """Ends the run: status "completed", "failed" or "killed"."""
        if status not in ("completed", "failed", "killed"):
            raise ValueError("status must be completed, failed or killed, got %r" % (status,))
        if self._ended or not self.active:
            return
        step = self._last_step if step is None else step
        if self._pending_start is not None:
            self._emit_start(step if step is not None else 0)
        self._ended = True
        event = {"type": "run_end", "run_id": self.run_id, "time": _now_ms(), "status": status}
        if step is not None:
            event["step"] = int(step)
        self._queue.put(("event", event))

    # ---------------------------------------------------------------------------------------------------------------
    # counters and shutdown
    # ---------------------------------------------------------------------------------------------------------------

    @property
    def delivered(self):
        return self._sink_delivered if self._sink is not None else (self._producer.delivered if self._producer else 0)

    @property
    def failed(self):
        return 0 if self._producer is None else self._producer.failed

    @property
    def queued(self):
        return self._queue.qsize() if self.active else 0

    def close(self, timeout=10.0):
        """Sends what is queued and waits up to ``timeout`` seconds for Kafka to acknowledge it. Returns True when
        everything reported was delivered. A pending run_start is sent; run_end is not implied."""
        if self._closed or not self.active:
            self._closed = True
            return self._close_result
        self._closed = True
        atexit.unregister(self._atexit)
        deadline = time.monotonic() + timeout
        if self._pending_start is not None:
            self._emit_start(self._last_step if self._last_step is not None else 0)
        self._stopping.set()
        self._queue.put(_STOP)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        ok = not self._thread.is_alive()
        try:
            if self._producer is not None:
                ok = self._producer.flush(deadline - time.monotonic()) and ok
                self._producer.close(max(0.0, deadline - time.monotonic()))
                if self._producer.last_error:
                    self.last_error = self._producer.last_error
            elif self._sink is not None and hasattr(self._sink, "close"):
                self._sink.close()
        except Exception as e:  # noqa: BLE001 - Kafka trouble never raises from close(): its result says so
            ok = False
            self.last_error = "could not flush or close the Kafka client: %s" % (e,)
            log.warning("trainwatch: %s", self.last_error)
        self._close_result = ok and self.delivered == self.sent and self.queued == 0 and self.send_errors == 0
        return self._close_result

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._started or self._pending_start is not None:
            self.run_end("completed" if exc_type is None else ("killed" if exc_type is KeyboardInterrupt else "failed"))
        self.close()
        return False

    # ---------------------------------------------------------------------------------------------------------------
    # training-thread helpers
    # ---------------------------------------------------------------------------------------------------------------

    def _grad_norm(self, model):
        if self._params_of is not model:
            # parameters() walks the module tree each call (~6 us on a small MLP): keep the list
            self._params = list(model.parameters())
            self._params_of = model
            import torch
            self._torch = torch
            self._one_device = len({p.device for p in self._params}) <= 1
        grads = [p.grad for p in self._params if p.grad is not None]
        if not grads:
            return None
        norm = self._torch.linalg.vector_norm
        # as clip_grad_norm_ computes it (torch._foreach_norm measured no faster on CPU with torch 1.13)
        norms = [norm(g) for g in grads]
        if not self._one_device:
            norms = [n.to(norms[0].device) for n in norms]
        # a tensor: .item() (a device sync on GPU) happens in the sender thread, not here
        return norm(self._torch.stack(norms))

    # ---------------------------------------------------------------------------------------------------------------
    # the sender thread
    # ---------------------------------------------------------------------------------------------------------------

    def _run(self):
        if self._sink is None:
            # built here, not in the constructor: kafka-python's constructor waits for a broker (and raises without one)
            while not self._connect():
                if self._stopping.wait(_PRODUCER_RETRY_S):
                    return
        while True:
            # wake up every LINGER_S and send what piled up, instead of once per event: a thread woken by every put
            # takes the GIL from the training loop once per step (measured: p99 of step() went from ms to tens of us)
            stopping = self._stopping.wait(LINGER_S)
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    return
                self._send(item)
            if self._producer is not None:
                try:
                    self._producer.poll()
                except Exception as e:  # noqa: BLE001 - the sender thread must outlive any client error
                    self.last_error = "the Kafka client failed: %s" % (e,)
            if stopping and self._queue.empty():
                return

    def _send(self, item):
        try:
            value = self._encode(item)
        except Exception as e:  # a value that cannot be encoded must not stop the thread
            self.send_errors += 1
            self.last_error = "could not encode an event: %s" % (e,)
            log.warning("trainwatch: %s", self.last_error)
            return
        try:
            if self._sink is not None:
                self._sink(self._key, value)
                self._sink_delivered += 1
            else:
                self._producer.send(self.topic, self._key, value)
            self.sent += 1
        except Exception as e:
            self.send_errors += 1
            self.last_error = "could not send an event: %s" % (e,)
            # the first one warned, the rest counted: a client that fails every send must not flood the training log
            (log.warning if self.send_errors == 1 else log.debug)("trainwatch: %s (further send errors are counted in send_errors)",
                                                                  self.last_error)

    def _connect(self):
        servers, backend, config = self._producer_args
        try:
            self._producer = Producer(servers, backend, config)
            return True
        except Exception as e:
            self.last_error = "cannot create the Kafka producer for %s: %s" % (servers, e)
            log.warning("trainwatch: %s (retrying every %.0f s; step events are dropped once %d are queued)",
                        self.last_error, _PRODUCER_RETRY_S, self._queue_size)
            return False

    def _encode(self, item):
        if item[0] == "event":
            return json.dumps(item[1], separators=(",", ":")).encode("utf-8")
        _, step, t, loss, grad_norm, lrs, epoch, batch, loss_scale, scheduler_lag = item
        event = {"type": "step", "run_id": self.run_id, "step": int(step), "time": int(t * 1000), "loss": float(loss),
                 "lr": [float(x) for x in lrs]}
        if grad_norm is not None:
            event["grad_norm"] = float(grad_norm)
        if epoch is not None:
            event["epoch"] = float(epoch)
        if batch is not None:
            event["batch"] = _batch_ids(batch)
        if loss_scale is not None:
            event["loss_scale"] = float(loss_scale)
        if scheduler_lag is not None:
            event["scheduler_lag"] = int(scheduler_lag)
        return json.dumps(event, separators=(",", ":")).encode("utf-8")


def _process_rank():
    """(global rank, world size): torch.distributed's when its process group is initialized, else the RANK and
    WORLD_SIZE a launcher (torchrun, accelerate, deepspeed) sets before the script builds its process group, else (0, 1)."""
    dist = sys.modules.get("torch.distributed")  # not imported here: a process that never imported torch runs no process group
    if dist is not None and dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    try:
        rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 0, 1
    return (rank, world) if world > 1 and 0 <= rank < world else (0, 1)


def _batch_ids(batch):
    if hasattr(batch, "tolist"):
        batch = batch.tolist()
    if isinstance(batch, (str, int)) or not hasattr(batch, "__iter__"):
        batch = [batch]
    out = []
    for b in batch:
        if len(out) == MAX_BATCH_IDS:
            break
        out.append(b if isinstance(b, int) and not isinstance(b, bool) else str(b)[:MAX_ID_CHARS])
    return out


def _check_base_lrs(schedule, optimizer):
    """A spec written by hand often takes the LRs a warmup scheduler already lowered: say so."""
    base = (schedule.get("params") or {}).get("base_lrs") if isinstance(schedule, dict) else None
    if not base or optimizer is None:
        return
    initial = [g.get("initial_lr", g["lr"]) for g in optimizer.param_groups]
    if len(base) != len(initial) or any(not math.isclose(float(b), float(i), rel_tol=1e-9) for b, i in zip(base, initial)):
        warnings.warn("trainwatch: the declared base_lrs %s differ from the optimizer's initial LRs %s (base_lrs are the LRs the "
                      "optimizer was built with, before any scheduler changed them)" % (base, initial), stacklevel=3)


def _now_ms():
    return int(time.time() * 1000)


def _optimizer_name(optimizer):
    """The optimizer's class name, through the wrappers trainers put around it (accelerate's AcceleratedOptimizer,
    Lightning's LightningOptimizer): "AdamW", not the wrapper's name."""
    seen = 0
    while optimizer is not None and seen < 4:
        inner = getattr(optimizer, "optimizer", None) or getattr(optimizer, "_optimizer", None)
        if inner is None or inner is optimizer or not hasattr(inner, "param_groups"):
            break
        optimizer, seen = inner, seen + 1
    return type(optimizer).__name__ if optimizer is not None else None
