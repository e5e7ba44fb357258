"""Trains a small MLP regression for real (CPU, synthetic data, a few hundred optimizer steps) and reports it to
trainwatch with trainwatch_client, in one of four scenarios:

  healthy      warmup + cosine (SequentialLR), scheduler stepped after every optimizer step: nothing to report
  nan_batch    as healthy, but one batch (--bad-step) carries an Inf input: its loss is NaN, the gradients before
               were healthy. The loop skips that optimizer step (a finite-loss guard) and goes on.
  per_epoch    the scheduler is sized and declared per optimizer step but stepped once per epoch
  accum_micro  gradient accumulation over 4 micro-batches; the schedule is declared in optimizer steps (warmup 30,
               cosine to 300) but built from len(loader) * epochs, i.e. counted in micro-batches (4x too long)

    /usr/bin/python3 clients/python/examples/train_mlp.py --bootstrap-servers localhost:9092 --run-id mlp-1 --scenario healthy

With --await-alert KIND it then reads the run's alerts back (trainwatch_client.Suggestions, read committed) and
prints the first one of that kind. The last stdout line is a JSON summary.
"""

import argparse
import json
import sys
import time
import warnings

import torch
from torch import nn
from torch.optim import lr_scheduler as L

from trainwatch_client import JsonLinesSink, Reporter, Suggestions

EPOCHS = 15
SAMPLES = 1280
BATCH = 64          # samples per optimizer step
STEPS_PER_EPOCH = SAMPLES // BATCH  # 20
TOTAL_STEPS = EPOCHS * STEPS_PER_EPOCH  # 300
WARMUP = 30
ACCUM = 4


def data(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(SAMPLES, 16, generator=g)
    w1 = torch.randn(16, 32, generator=g) / 4
    w2 = torch.randn(32, 1, generator=g) / 4
    y = torch.tanh(x @ w1) @ w2 + 0.01 * torch.randn(SAMPLES, 1, generator=g)
    return x, y


def model_and_optimizer(lr):
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    # two param groups, as most trainers build them (no weight decay on biases)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    return model, opt


def warmup_cosine(opt, warmup, total):
    return L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=warmup),
                                L.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=1e-4)], milestones=[warmup])


def batches(x, y, batch, epoch, seed):
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed * 1000 + epoch))
    for i in range(len(x) // batch):
        idx = perm[i * batch:(i + 1) * batch]
        yield i, x[idx], y[idx]


def train(args, reporter):
    torch.manual_seed(args.seed)
    x, y = data(args.seed)
    model, opt = model_and_optimizer(args.lr)
    loss_fn = nn.MSELoss()
    micro = BATCH // ACCUM if args.scenario == "accum_micro" else BATCH
    accum = ACCUM if args.scenario == "accum_micro" else 1
    loader_len = SAMPLES // micro

    if args.scenario == "accum_micro":
        # the bug: sized on len(loader) * epochs = micro-batches, not optimizer steps
        sched = warmup_cosine(opt, WARMUP * accum, loader_len * EPOCHS)
        # what the run is meant to do, in optimizer steps (from its config), declared as a spec
        declared = {"scheduler": "SequentialLR", "params": {
            "schedulers": [{"scheduler": "LinearLR", "params": {"start_factor": 0.1, "total_iters": WARMUP}},
                           {"scheduler": "CosineAnnealingLR", "params": {"T_max": TOTAL_STEPS - WARMUP, "eta_min": 1e-4}}],
            "milestones": [WARMUP], "base_lrs": [args.lr] * len(opt.param_groups)}}
        reporter.run_start(opt, sched, grad_accum_steps=accum, steps_per_epoch=STEPS_PER_EPOCH, grad_clip=None, schedule=declared)
    else:
        sched = warmup_cosine(opt, WARMUP, TOTAL_STEPS)
        # the spec is read off the live scheduler (per step, as declared by default)
        reporter.run_start(opt, sched, grad_accum_steps=1, steps_per_epoch=STEPS_PER_EPOCH)

    step = 0
    bad_batch = None
    last_loss = None
    for epoch in range(EPOCHS):
        micro_losses = []
        for i, xb, yb in batches(x, y, micro, epoch, args.seed):
            batch_id = "epoch%d/batch%d" % (epoch, i // accum)
            if args.scenario == "nan_batch" and step == args.bad_step and i % accum == 0:
                xb = xb.clone()
                xb[3, 5] = float("inf")  # one corrupted sample
                bad_batch = batch_id
            loss = loss_fn(model(xb), yb)
            (loss / accum).backward()
            micro_losses.append(loss.detach())
            if (i + 1) % accum:
                continue
            step_loss = torch.stack(micro_losses).mean()
            micro_losses = []
            reporter.step(step, step_loss, opt, model, batch=batch_id, epoch=epoch + (i + 1) / loader_len)
            if torch.isfinite(step_loss):
                opt.step()
            opt.zero_grad(set_to_none=True)
            last_loss = float(step_loss)
            if args.scenario != "per_epoch":
                sched.step()
            step += 1
        if args.scenario == "per_epoch":
            sched.step()  # the bug: once per epoch
    reporter.run_end("completed", step - 1)
    return step, bad_batch, last_loss


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap-servers")
    p.add_argument("--out", help="write the events to this JSON-lines file instead of Kafka (for trainwatch replay)")
    p.add_argument("--run-id", required=True)
    p.add_argument("--scenario", choices=["healthy", "nan_batch", "per_epoch", "accum_micro"], required=True)
    p.add_argument("--topic", default="trainwatch.events")
    p.add_argument("--alerts-topic", default="trainwatch.alerts")
    p.add_argument("--backend", default="auto", choices=["auto", "confluent", "kafka-python"])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--bad-step", type=int, default=150)
    p.add_argument("--await-alert", metavar="KIND", help="then wait for an alert of this kind for the run and print it")
    p.add_argument("--await-seconds", type=float, default=60)
    args = p.parse_args(argv)
    if not args.bootstrap_servers and not args.out:
        p.error("give --bootstrap-servers or --out")
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)

    started = time.monotonic()
    sink = JsonLinesSink(args.out) if args.out else None
    reporter = Reporter(args.bootstrap_servers, args.run_id, args.topic, backend=args.backend, sink=sink)
    steps, bad_batch, last_loss = train(args, reporter)
    trained = time.monotonic() - started
    delivered_all = reporter.close(timeout=30)
    summary = {"run_id": args.run_id, "scenario": args.scenario, "backend": reporter.backend, "steps": steps,
               "train_seconds": round(trained, 2), "sent": reporter.sent, "delivered": reporter.delivered,
               "dropped": reporter.dropped, "failed": reporter.failed, "delivered_all": delivered_all,
               "last_loss": last_loss, "bad_step": args.bad_step if bad_batch else None, "bad_batch": bad_batch}
    if args.await_alert:
        found = None
        with Suggestions(args.bootstrap_servers, args.run_id, args.alerts_topic, backend=args.backend) as s:
            summary["suggestions_backend"] = s.backend
            for alert in s.iter(timeout=args.await_seconds):
                print("ALERT " + json.dumps(alert), flush=True)
                if alert.get("kind") == args.await_alert:
                    found = alert
                    break
        summary["awaited_alert"] = found
    print(json.dumps(summary), flush=True)
    if not delivered_all:
        return 2
    if args.await_alert and summary["awaited_alert"] is None:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
