"""What the client costs a training step, with the broker up, down, hung or stopped mid-run (real sockets, the real
Kafka client, nothing of it mocked).

    clients/python/.venvs/torch2-tf5/bin/python clients/python/tests/frameworks/overhead.py --bootstrap-servers localhost:9092 --callbacks

Trains an MLP (one optimizer step ~5-20 ms on one CPU thread) and times every step (forward, backward,
``Reporter.step(step, loss, opt, model)`` — grad norm computed —, AdamW step) in these modes, interleaved step by
step (one model per mode) so that a change in the machine's load hits every mode alike:

  none     no reporter
  live     a Reporter to the broker (--bootstrap-servers), connected before timing starts
  down     a Reporter to a port where nothing listens (connection refused)
  hung     a Reporter to a socket that accepts connections and never answers (a broker that hangs: every request
           times out)
  stopped  (with --stop-signal FILE, last) a Reporter to the live broker, connected; then the script creates FILE,
           whoever runs the broker stops it, and the steps are timed once the port refuses connections

Every Reporter has queue_size=QUEUE_SIZE, so that a broker that takes nothing makes the queue drop (counted) within
the run. --callbacks also times a Hugging Face Trainer and a Lightning fit of the same model with and without the
trainwatch callback (logging_steps=1: the HF callback reports every step). Prints a table, then one JSON line.
"""

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time

import torch
from torch import nn

from trainwatch_client import Reporter

from hf_regression import Regression

QUEUE_SIZE = 100
WIDTH = 384
BATCH = 64


def mlp():
    return nn.Sequential(nn.Linear(WIDTH, 2 * WIDTH), nn.ReLU(), nn.Linear(2 * WIDTH, 2 * WIDTH), nn.ReLU(), nn.Linear(2 * WIDTH, 1))


def batches(n=8):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        x = torch.randn(BATCH, WIDTH, generator=g)
        out.append((x, x[:, :1] * 0.5))
    return out


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def summary(times):
    return {"steps": len(times), "p50_ms": round(percentile(times, 50) * 1e3, 3), "p99_ms": round(percentile(times, 99) * 1e3, 3),
            "max_ms": round(max(times) * 1e3, 3)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HungBroker:
    """Accepts TCP connections and never answers: a broker that hangs."""

    def __init__(self):
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.address = "127.0.0.1:%d" % self._server.getsockname()[1]
        self._held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._held.append(conn)  # kept open, never read from nor written to


class HookClock:
    """The time spent inside a callback's own hooks (every on_* it defines), summed: wraps them on the instance, where
    the Trainer looks them up. Load on the machine slows them too, but no other code is counted."""

    def __init__(self, callback=None):
        self.total = 0.0
        for name in [n for n in type(callback).__dict__ if n.startswith("on_")] if callback is not None else []:
            setattr(callback, name, self._timed(getattr(callback, name)))

    def _timed(self, hook):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return hook(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t0
        return timed


def per_step(stamps, warmup):
    """(step-to-step times, time inside the callback per step) from (time, HookClock.total) stamps at each step's start."""
    pairs = list(zip(stamps, stamps[1:]))[warmup:]
    return [b[0] - a[0] for a, b in pairs], [b[1] - a[1] for a, b in pairs]


def await_condition(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out after %.0f s waiting for %s" % (seconds, what))
        time.sleep(0.05)


class Loop:
    """One model, optimizer and (optional) Reporter; ``run(n)`` trains n more steps and returns their times."""

    def __init__(self, reporter=None):
        torch.manual_seed(0)
        self.model = mlp()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4)
        self.data = batches()
        self.reporter = reporter
        self.step = 0

    def run(self, n):
        times = []
        for _ in range(n):
            x, y = self.data[self.step % len(self.data)]
            t0 = time.perf_counter()
            loss = nn.functional.mse_loss(self.model(x), y)
            loss.backward()
            if self.reporter is not None:
                self.reporter.step(self.step, loss, self.opt, self.model)
            self.opt.step()
            self.opt.zero_grad()
            times.append(time.perf_counter() - t0)
            self.step += 1
        return times


def counters(r):
    return {"sent": r.sent, "delivered": r.delivered, "dropped": r.dropped, "queued": r.queued, "failed": r.failed,
            "send_errors": r.send_errors, "last_error": r.last_error}


def reporter_modes(args):
    hung = HungBroker()
    addresses = {"down": "127.0.0.1:%d" % free_port(), "hung": hung.address}
    if args.bootstrap_servers:
        addresses = {"live": args.bootstrap_servers, **addresses}
    loops = {"none": Loop()}
    for mode, address in addresses.items():
        r = Reporter(address, "overhead-%s-%d" % (mode, os.getpid()), topic=args.topic, queue_size=QUEUE_SIZE)
        r.run_start(loops["none"].opt, None, start_step=0)
        loops[mode] = Loop(r)
    if "live" in loops:
        loops["live"].run(1)  # connected and delivering before timing starts
        await_condition(lambda: loops["live"].reporter.delivered >= 2, 60, "the live broker to acknowledge the first events")
    for loop in loops.values():
        loop.run(args.warmup)
    times = {mode: [] for mode in loops}
    for _ in range(args.steps):
        for mode, loop in loops.items():
            times[mode] += loop.run(1)
    results = {mode: summary(t) for mode, t in times.items()}
    for mode, loop in loops.items():
        if loop.reporter is not None:
            results[mode].update(counters(loop.reporter))
            loop.reporter.close(timeout=0.5 if mode in ("down", "hung") else 10)
    return results


def stopped_mode(args):
    loop = Loop(Reporter(args.bootstrap_servers, "overhead-stopped-%d" % os.getpid(), topic=args.topic, queue_size=QUEUE_SIZE))
    loop.reporter.run_start(loop.opt, None, start_step=0)
    loop.run(1)
    await_condition(lambda: loop.reporter.delivered >= 2, 60, "the live broker to acknowledge the first events")
    loop.run(args.warmup)
    with open(args.stop_signal, "w") as f:
        f.write("stop the broker\n")
    host, port = args.bootstrap_servers.split(",")[0].rsplit(":", 1)

    def refused():
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return False
        except OSError:
            return True
    await_condition(refused, 120, "the broker to be stopped")
    result = summary(loop.run(args.steps))
    result.update(counters(loop.reporter))
    loop.reporter.close(timeout=0.5)
    return result


def hf_times(args, with_callback, servers):
    from transformers import Trainer, TrainerCallback, TrainingArguments
    from trainwatch_client.hf import TrainwatchCallback

    class Timer(TrainerCallback):
        def __init__(self):
            self.stamps, self.clock = [], HookClock()

        def on_step_begin(self, args, state, control, **kwargs):
            self.stamps.append((time.perf_counter(), self.clock.total))

    data = [{"x": x[i], "labels": y[i]} for x, y in batches() for i in range(BATCH)]
    timer = Timer()
    callbacks = [timer]
    if with_callback:
        callbacks.append(TrainwatchCallback(servers, topic=args.topic) if servers else TrainwatchCallback(sink=lambda k, v: None))
        timer.clock = HookClock(callbacks[-1])
    torch.manual_seed(0)
    targs = TrainingArguments(output_dir=tempfile.mkdtemp(), run_name="overhead-hf-%d-%d" % (os.getpid(), len(args.hf_runs)),
                              max_steps=args.callback_steps, per_device_train_batch_size=BATCH, learning_rate=1e-4, logging_steps=1,
                              report_to=[], save_strategy="no", disable_tqdm=True, use_cpu=True, dataloader_num_workers=0)
    Trainer(model=Regression(mlp()), args=targs, train_dataset=data, callbacks=callbacks).train()
    args.hf_runs.append(with_callback)
    # step to step, everything the Trainer does included (logging every step: the same in both runs); the first steps warm up
    return per_step(timer.stamps, args.warmup)


def lightning_times(args, with_callback, servers):
    import lightning as L
    from trainwatch_client.lightning import TrainwatchCallback

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), lr=1e-4)

    class Timer(L.Callback):
        def __init__(self):
            self.stamps, self.clock = [], HookClock()

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.stamps.append((time.perf_counter(), self.clock.total))

    xs = torch.cat([x for x, _ in batches()])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, xs[:, :1] * 0.5), batch_size=BATCH)
    timer = Timer()
    callbacks = [timer]
    run_id = "overhead-lightning-%d-%d" % (os.getpid(), len(args.lightning_runs))
    if with_callback:
        callbacks.append(TrainwatchCallback(servers, run_id, topic=args.topic) if servers else TrainwatchCallback(run_id=run_id, sink=lambda k, v: None))
        timer.clock = HookClock(callbacks[-1])
    torch.manual_seed(0)
    trainer = L.Trainer(max_steps=args.callback_steps, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks, default_root_dir=tempfile.mkdtemp())
    trainer.fit(Module(), loader)
    args.lightning_runs.append(with_callback)
    return per_step(timer.stamps, args.warmup)


def callback_modes(args):
    import logging
    import warnings
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    args.hf_runs, args.lightning_runs = [], []
    times = {"hf none": [], "hf callback": [], "lightning none": [], "lightning callback": []}
    inside = {"hf callback": [], "lightning callback": []}
    for _ in range(args.callback_runs):  # alternated: a whole run cannot be interleaved step by step
        for with_callback in (False, True):
            for framework, measure in (("hf", hf_times), ("lightning", lightning_times)):
                mode = framework + (" callback" if with_callback else " none")
                steps, hooks = measure(args, with_callback, args.bootstrap_servers)
                times[mode] += steps
                if with_callback:
                    inside[mode] += hooks
    results = {mode: summary(t) for mode, t in times.items()}
    for mode, t in inside.items():
        results[mode].update(hooks_p50_us=round(percentile(t, 50) * 1e6, 1), hooks_p99_us=round(percentile(t, 99) * 1e6, 1))
    return results


def print_table(results):
    print("%-20s %9s %9s %9s %9s %8s %8s %8s %18s" % ("mode", "p50 ms", "p99 ms", "p50 x", "p99 x", "sent", "dropped", "deliv.",
                                                    "in hooks p50/p99 us"))
    base = {"": results.get("none"), "hf": results.get("hf none"), "lightning": results.get("lightning none")}
    for mode, r in results.items():
        ref = base["hf"] if mode.startswith("hf") else base["lightning"] if mode.startswith("lightning") else base[""]
        hooks = "%.0f / %.0f" % (r["hooks_p50_us"], r["hooks_p99_us"]) if "hooks_p50_us" in r else "-"
        print("%-20s %9.3f %9.3f %9.2f %9.2f %8s %8s %8s %18s" % (mode, r["p50_ms"], r["p99_ms"], r["p50_ms"] / ref["p50_ms"], r["p99_ms"] / ref["p99_ms"],
                                                               r.get("sent", "-"), r.get("dropped", "-"), r.get("delivered", "-"), hooks))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap-servers", help="a live broker (modes live and stopped, and the callbacks' reports)")
    p.add_argument("--topic", default="trainwatch.events")
    p.add_argument("--steps", type=int, default=600, help="timed steps per mode")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--callbacks", action="store_true", help="also time the HF and Lightning callbacks")
    p.add_argument("--callback-steps", type=int, default=150, help="steps per HF / Lightning run")
    p.add_argument("--callback-runs", type=int, default=2, help="runs with and without each callback, alternated")
    p.add_argument("--stop-signal", help="measure mode stopped: create this file, then wait for the broker to be stopped")
    args = p.parse_args()
    torch.set_num_threads(1)
    started = time.monotonic()
    results = reporter_modes(args)
    if args.callbacks:
        results.update(callback_modes(args))
    if args.stop_signal:
        if not args.bootstrap_servers:
            p.error("--stop-signal needs --bootstrap-servers")
        results["stopped"] = stopped_mode(args)
    print_table(results)
    print(json.dumps({"results": results, "queue_size": QUEUE_SIZE, "torch": torch.__version__, "python": sys.version.split()[0],
                      "load_average": os.getloadavg(), "seconds": round(time.monotonic() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
