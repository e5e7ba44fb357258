"""Measures what Reporter.step() costs the training loop: microseconds per call, p50 and p99, with a real model and
optimizer training between the calls (CPU, one torch thread), and the sender thread encoding and sending to Kafka
(or, without --bootstrap-servers, to a sink that drops the bytes).

    /usr/bin/python3 clients/python/examples/bench_reporter.py --bootstrap-servers localhost:9092 [--steps 5000]

Two ways of calling it are timed: step(..., model) computes the total grad norm itself (one vector_norm per
parameter tensor plus one), step(..., grad_norm=...) takes the value clip_grad_norm_ already returned.
"""

import argparse
import platform
import statistics
import sys
import time
import warnings

import torch
from torch import nn

from trainwatch_client import Reporter


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def measure(reporter, model, opt, sched, x, y, steps, first_step, pass_grad_norm, reference=None):
    loss_fn = nn.MSELoss()
    costs = []
    for i in range(steps):
        loss = loss_fn(model(x), y)
        loss.backward()
        t = time.perf_counter_ns()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0) if pass_grad_norm else None
        if reference is not None:
            reference["clip_grad_norm_"].append((time.perf_counter_ns() - t) / 1000.0)
            t = time.perf_counter_ns()
            loss.detach() + 1  # one trivial torch op, for scale
            reference["one torch op"].append((time.perf_counter_ns() - t) / 1000.0)
        t = time.perf_counter_ns()
        if pass_grad_norm:
            reporter.step(first_step + i, loss, opt, grad_norm=norm, batch="b%d" % i)
        else:
            reporter.step(first_step + i, loss, opt, model, batch="b%d" % i)
        costs.append((time.perf_counter_ns() - t) / 1000.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    return costs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap-servers")
    p.add_argument("--topic", default="trainwatch.events")
    p.add_argument("--backend", default="auto", choices=["auto", "confluent", "kafka-python"])
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=300)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 4 * (args.steps + args.warmup))
    x, y = torch.randn(64, 32), torch.randn(64, 1)
    sink = None if args.bootstrap_servers else (lambda key, value: None)
    run_id = "bench-%d" % int(time.time())
    r = Reporter(args.bootstrap_servers, run_id, args.topic, backend=args.backend, sink=sink)
    r.run_start(opt, sched)
    measure(r, model, opt, sched, x, y, args.warmup, 0, False)
    with_model = measure(r, model, opt, sched, x, y, args.steps, args.warmup, False)
    reference = {"clip_grad_norm_": [], "one torch op": []}
    given = measure(r, model, opt, sched, x, y, args.steps, args.warmup + args.steps, True, reference)
    r.run_end()
    ok = r.close(timeout=30)
    tensors = sum(1 for _ in model.parameters())
    params = sum(q.numel() for q in model.parameters())
    print("trainwatch_client Reporter.step() overhead: torch %s, Python %s, %s, backend %s, %d calls each, MLP of %d parameter "
          "tensors (%d parameters), AdamW, one torch thread" % (torch.__version__, platform.python_version(), platform.machine(),
                                                              r.backend, args.steps, tensors, params))
    for label, costs in (("step(..., model)      grad norm computed", with_model), ("step(..., grad_norm=) clip_grad_norm_'s", given)):
        print("%s: p50 %.1f us, p99 %.1f us, mean %.1f us, max %.0f us" % (label, percentile(costs, 50), percentile(costs, 99),
                                                                             statistics.fmean(costs), max(costs)))
    print("for scale, in the same loop: clip_grad_norm_ p50 %.1f us, p99 %.1f us; one trivial torch op p50 %.1f us, p99 %.1f us"
          % (percentile(reference["clip_grad_norm_"], 50), percentile(reference["clip_grad_norm_"], 99),
             percentile(reference["one torch op"], 50), percentile(reference["one torch op"], 99)))
    print("events: sent %d, delivered %d, dropped %d, failed %d, all delivered: %s" % (r.sent, r.delivered, r.dropped, r.failed, ok))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
