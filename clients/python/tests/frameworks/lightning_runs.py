"""Real Lightning training runs reported by trainwatch_client.lightning.TrainwatchCallback, with the truth of each.

Several scenarios run in one process (importing Lightning takes seconds), each a tiny MLP on a synthetic regression
set, on CPU, with its own run id. For every scenario the script records what really happened: the LRs the first
optimizer stepped with at every optimizer step (torch's ``register_step_post_hook``), and the loss as Lightning logged
it (``self.log("train_loss", loss)`` read back from ``trainer.callback_metrics`` after each batch; per optimizer step
the mean of its micro-batches). It prints one line ``TRUTH {json}`` per scenario; LightningITCase compares them with
the events the callback sent and with the job's alerts.

    lightning_runs.py --bootstrap-servers HOST:PORT --topic T --prefix lit- [--only a,b] [--sink-dir DIR]
    lightning_runs.py --record-stepping FILE     # the LR traces of src/test/resources/schedule/lightning-frequency.json

``--sink-dir`` writes each run's events to DIR/<run_id>.jsonl instead of Kafka (for a look without a broker). The
"ddp" scenario starts a second process (Lightning's ddp launcher re-runs this script with the same arguments), so it
runs alone: ``--only ddp``.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings

import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

import lightning.pytorch as pl

from trainwatch_client import Reporter, JsonLinesSink
from trainwatch_client.lightning import TrainwatchCallback

FEATURES = 8
BATCH = 8


def dataset(batches, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batches * BATCH, FEATURES, generator=g)
    y = x @ torch.randn(FEATURES, 1, generator=g) + 0.1 * torch.randn(batches * BATCH, 1, generator=g)
    return TensorDataset(x, y)


class Unsized(IterableDataset):
    def __init__(self, ds):
        self.ds = ds

    def __iter__(self):
        return iter(self.ds)


class Regressor(pl.LightningModule):
    """An MLP; ``sched(opt, trainer)`` builds the scheduler, ``config`` the rest of the lr_scheduler dict."""

    def __init__(self, sched=None, config=None, lr=0.05, raise_at=None, sync_dist=False, nan_at=None):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, 1))
        self.sched, self.config, self.lr, self.raise_at, self.sync_dist = sched, config or {}, lr, raise_at, sync_dist
        self.nan_at = nan_at
        self.local_losses = []  # this rank's own loss of every batch (under DDP the logged one is the mean across ranks)

    def training_step(self, batch, batch_idx):
        if self.raise_at is not None and self.global_step == self.raise_at:
            raise RuntimeError("the module's own bug at step %d" % self.global_step)
        x, y = batch
        if self.global_step == self.nan_at:
            x = x.clone()
            x[0] = float("nan")  # one corrupted sample in the batch of this optimizer step only
        loss = nn.functional.mse_loss(self.net(x), y)
        self.local_losses.append(float(loss))
        self.log("train_loss", loss, sync_dist=self.sync_dist)
        return loss

    def on_before_optimizer_step(self, optimizer):
        # a NaN batch must not poison the weights (runs after the callbacks' hook, which saw the NaN gradients)
        if any(p.grad is not None and not torch.isfinite(p.grad).all() for p in self.parameters()):
            for p in self.parameters():
                p.grad = None

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        if self.sched is None:
            return opt
        return {"optimizer": opt, "lr_scheduler": dict(self.config, scheduler=self.sched(opt, self.trainer))}


class Gan(pl.LightningModule):
    """Manual optimization with two optimizers, as a GAN steps them: G then D in every training_step."""

    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.g = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, 1))
        self.d = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1))

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        sched_g, _ = self.lr_schedulers()
        x, y = batch
        g_loss = nn.functional.mse_loss(self.g(x), y) + 0.1 * self.d(self.g(x)).mean().abs()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        d_loss = (self.d(y) - 1).pow(2).mean() + self.d(self.g(x).detach()).pow(2).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        sched_g.step()
        self.log("train_loss", g_loss)
        return g_loss

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.g.parameters(), lr=0.01)
        opt_d = torch.optim.Adam(self.d.parameters(), lr=0.002)
        return ([opt_g, opt_d], [torch.optim.lr_scheduler.StepLR(opt_g, 10, 0.5), torch.optim.lr_scheduler.ExponentialLR(opt_d, 0.9)])


class Truth(pl.Callback):
    """What really happened: the first optimizer's LRs at each of its steps, and the logged loss of every batch."""

    def __init__(self, skips=False):
        self.lrs, self.batch_losses, self.global_steps = [], [], []
        self._hooked = None
        # with a GradScaler an overflowing step never calls optimizer.step(): it used no LR, recorded as None
        self._skips, self._stepped, self._last_global_step = skips, False, 0

    def on_train_start(self, trainer, pl_module):
        opt = trainer.optimizers[0]
        if self._hooked is not None:
            self._hooked.remove()
        # a post hook: Lightning runs training_step inside optimizer.step(closure), so a pre hook also fires for a step whose
        # training_step raised; the LR is the one the step used either way (the scheduler steps after it)
        self._hooked = opt.register_step_post_hook(self._record)
        self._last_global_step = int(trainer.global_step)

    def _record(self, o, args, kwargs):
        self.lrs.append([g["lr"] for g in o.param_groups])
        self._stepped = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        # callback_metrics is computed on access: this batch's logged value (synced across ranks with sync_dist)
        self.batch_losses.append(float(trainer.callback_metrics["train_loss"]))
        self.global_steps.append(int(trainer.global_step))
        if self._skips and trainer.global_step > self._last_global_step:
            if not self._stepped:
                self.lrs.append(None)
            self._stepped, self._last_global_step = False, int(trainer.global_step)


def trainer(run_id, args, truth, epochs, extra=None, **kw):
    if args.sink_dir:
        reporter = Reporter(run_id=run_id, sink=JsonLinesSink(os.path.join(args.sink_dir, run_id + ".jsonl")))
        cb = TrainwatchCallback(reporter=reporter)
    else:
        cb = TrainwatchCallback(args.bootstrap_servers, run_id, topic=args.topic)
    callbacks = [truth, cb] + (extra or [])
    defaults = dict(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                    enable_checkpointing=False, callbacks=callbacks)
    defaults.update(kw)
    return pl.Trainer(**defaults), cb


def run_fit(name, args, module, loader, epochs, expect, ckpt_path=None, extra=None, truth=None, **kw):
    truth = truth or Truth()
    tr, cb = trainer(args.prefix + name, args, truth, epochs, extra=extra, **kw)
    start = time.monotonic()
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tr.fit(module, loader, ckpt_path=ckpt_path)
        except RuntimeError as e:
            error = str(e)
    ours = [str(w.message) for w in caught if str(w.message).startswith("trainwatch")]
    if args.sink_dir and cb.reporter is not None:
        cb.reporter.close()  # a reporter given to the callback is the caller's to close (the other ranks' callbacks drop theirs)
    return tr, cb, truth, {"scenario": name, "run_id": args.prefix + name, "expect": expect, "lr": truth.lrs, "global_step": tr.global_step,
                           "trainwatch_warnings": ours, "client_errors": getattr(cb, "client_errors", 0), "error": error,
                           "seconds": round(time.monotonic() - start, 2),
                           "client_file": sys.modules["trainwatch_client"].__file__}


def loss_truth(truth, first_global_step=0):
    """Per optimizer step (from first_global_step on): the mean of the logged losses of its micro-batches."""
    out, window, last = [], [], first_global_step
    for loss, g in zip(truth.batch_losses, truth.global_steps):
        window.append(loss)
        if g > last:
            out.append(sum(window) / len(window))
            window, last = [], g
    return out


def per_step(total):
    return lambda opt, tr: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=total)


def scenarios(args):
    B = 16
    loader = lambda batches=B, **kw: DataLoader(dataset(batches, **kw), batch_size=BATCH)
    out = []

    # healthy: OneCycleLR over every optimizer step, stepped per step
    tr, cb, truth, r = run_fit("healthy", args, Regressor(per_step(4 * B), {"interval": "step"}), loader(), 4, "none")
    out.append(dict(r, loss=loss_truth(truth)))

    # nan_batch: one sample of the batch of optimizer step 37 is NaN (that step's update is skipped, see on_before_optimizer_step)
    bad = 37
    tr, cb, truth, r = run_fit("nan_batch", args, Regressor(per_step(4 * B), {"interval": "step"}, nan_at=bad), loader(), 4, "NON_FINITE")
    out.append(dict(r, loss=loss_truth(truth), bad_step=bad))

    # per_epoch: a cosine sized in optimizer steps (T_max = every step of the run) but configured "interval": "epoch"
    tr, cb, truth, r = run_fit("per_epoch", args, Regressor(lambda opt, t: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.estimated_stepping_batches),
                                                            {"interval": "epoch"}), loader(), 5, "LR_MISMATCH")
    out.append(dict(r, loss=loss_truth(truth), steps_per_epoch=B))

    # accumulation: 2 micro-batches per optimizer step over 15 batches (the last window is a single batch)
    tr, cb, truth, r = run_fit("accumulation", args, Regressor(per_step(4 * 8), {"interval": "step"}), loader(15), 4, "none",
                               accumulate_grad_batches=2)
    out.append(dict(r, loss=loss_truth(truth)))

    # frequency: scheduler.step() when (batch_idx + 1) % 3 == 0, batch_idx restarting every epoch of 10 batches
    tr, cb, truth, r = run_fit("frequency", args, Regressor(lambda o, t: torch.optim.lr_scheduler.ExponentialLR(o, 0.9),
                                                            {"interval": "step", "frequency": 3}), loader(10), 6, "none")
    out.append(dict(r, loss=loss_truth(truth)))

    # frequency with accumulation: frequency 3, accumulate 2, 10 batches (steps at batches 1,3,5,7,9; the scheduler after 5)
    tr, cb, truth, r = run_fit("frequency_accum", args, Regressor(lambda o, t: torch.optim.lr_scheduler.StepLR(o, 1, 0.8),
                                                                  {"interval": "step", "frequency": 3}), loader(10), 6, "none",
                               accumulate_grad_batches=2)
    out.append(dict(r, loss=loss_truth(truth)))

    # resume: 2 epochs, a checkpoint, then 2 more from it; the scheduler (frequency 2) is restored by Lightning
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "last.ckpt")
        make = lambda: Regressor(lambda o, t: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40), {"interval": "step", "frequency": 2})
        tr, cb, truth1, r1 = run_fit("resume", args, make(), loader(), 2, "none")
        tr.save_checkpoint(ckpt)
        tr, cb, truth2, r2 = run_fit("resume", args, make(), loader(), 4, "none", ckpt_path=ckpt)
    out.append(dict(r2, lr=r1["lr"] + r2["lr"], loss=loss_truth(truth1) + loss_truth(truth2, 2 * B), resumed_at=2 * B,
                    trainwatch_warnings=r1["trainwatch_warnings"] + r2["trainwatch_warnings"], seconds=r1["seconds"] + r2["seconds"]))

    # bf16 autocast on CPU
    tr, cb, truth, r = run_fit("bf16", args, Regressor(per_step(3 * B), {"interval": "step"}), loader(), 3, "none", precision="bf16-mixed")
    out.append(dict(r, loss=loss_truth(truth)))

    # fp16 with a real GradScaler on CPU (Lightning turns precision="16-mixed" on CPU into bf16, so the plugin is given): its
    # start-up scale 2^40 overflows the first steps, which the scaler skips while the scheduler steps on
    from lightning.pytorch.plugins.precision import MixedPrecision
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 40)
    tr, cb, truth, r = run_fit("fp16_scaler", args, Regressor(per_step(3 * B), {"interval": "step"}), loader(), 3, "none",
                               truth=Truth(skips=True), plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)])
    out.append(dict(r, loss=loss_truth(truth), final_scale=scaler.get_scale()))

    # a scheduler trainwatch cannot reproduce: an arbitrary lambda
    tr, cb, truth, r = run_fit("unsupported", args, Regressor(lambda o, t: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 0.97 ** e),
                                                              {"interval": "step"}), loader(), 3, "none")
    out.append(dict(r, loss=loss_truth(truth)))

    # "interval": "epoch" over an unsized loader (an IterableDataset): trainwatch cannot tell the epoch's steps
    tr, cb, truth, r = run_fit("unsized_epoch", args, Regressor(lambda o, t: torch.optim.lr_scheduler.ExponentialLR(o, 0.8), {"interval": "epoch"}),
                               DataLoader(Unsized(dataset(B)), batch_size=BATCH), 3, "none")
    out.append(dict(r, loss=loss_truth(truth)))

    # manual optimization, two optimizers stepped in every training_step; the first one's scheduler stepped by the module
    tr, cb, truth, r = run_fit("manual", args, Gan(), loader(), 3, "none")
    out.append(dict(r, loss=list(truth.batch_losses)))

    # an exception out of training_step at optimizer step 20
    tr, cb, truth, r = run_fit("exception", args, Regressor(per_step(3 * B), {"interval": "step"}, raise_at=20), loader(), 3, "failed")
    out.append(dict(r, loss=loss_truth(truth)))
    return out


def ddp(args):
    """2 processes (gloo) on CPU; rank 0 prints the truth: the logged loss is the mean across ranks (sync_dist=True)."""
    B = 12
    # each rank gets half of the batches (DistributedSampler): a different loss on each
    loader = DataLoader(dataset(2 * B, seed=3), batch_size=BATCH)
    module = Regressor(per_step(3 * B), {"interval": "step"}, sync_dist=True)
    # beside it, a callback with ranks="all": each rank its own stream, <run_id>/rank-<k>, with its own loss
    per_rank = [] if args.sink_dir else [TrainwatchCallback(args.bootstrap_servers, args.prefix + "ddp-ranks", topic=args.topic, ranks="all")]
    tr, cb, truth, r = run_fit("ddp", args, module, loader, 3, "none", extra=per_rank, strategy="ddp", devices=2)
    if tr.is_global_zero:
        return [dict(r, loss=loss_truth(truth), rank0_loss=module.local_losses, world_size=tr.world_size)]
    return []


def record_stepping(path):
    """The LR real Lightning gives at every optimizer step for step-interval schedulers with a frequency, as the Java
    test reads them (SchedulerSteppingTest)."""
    class Args:
        sink_dir, prefix, bootstrap_servers, topic = None, "rec-", None, None
    cases = []
    for batches, accum, freq, epochs in [(10, 1, 3, 6), (10, 2, 2, 4), (10, 2, 3, 5), (12, 3, 4, 5), (9, 2, 4, 4), (6, 4, 2, 5), (5, 1, 7, 4)]:
        loader = DataLoader(dataset(batches), batch_size=BATCH)
        module = Regressor(lambda o, t: torch.optim.lr_scheduler.ExponentialLR(o, 0.5), {"interval": "step", "frequency": freq}, lr=1.0)
        truth = Truth()
        tr = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, callbacks=[truth], accumulate_grad_batches=accum)
        tr.fit(module, loader)
        cases.append({"batches_per_epoch": batches, "accumulate_grad_batches": accum, "frequency": freq, "epochs": epochs,
                      "spec": {"scheduler": "ExponentialLR", "params": {"gamma": 0.5, "base_lrs": [1.0]}, "interval": "step", "frequency": freq,
                               "batches_per_epoch": batches, "accumulate_grad_batches": accum},
                      "lr": [lrs[0] for lrs in truth.lrs]})
    with open(path, "w") as f:
        json.dump({"note": "recorded with clients/python/tests/frameworks/lightning_runs.py --record-stepping: real Lightning %s, torch %s; "
                           "lr[s] = the LR of the first param group when optimizer step s ran (torch register_step_post_hook); "
                           "ExponentialLR(gamma=0.5) from lr 1.0, so lr = 0.5^(scheduler steps before s)" % (pl.__version__, torch.__version__),
                   "cases": cases}, f, indent=None)
        f.write("\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap-servers")
    p.add_argument("--topic", default="trainwatch.events")
    p.add_argument("--prefix", default="lit-")
    p.add_argument("--only", default=None, help="comma-separated scenarios (ddp runs only this way)")
    p.add_argument("--sink-dir", default=None)
    p.add_argument("--record-stepping", default=None)
    args = p.parse_args()
    torch.manual_seed(0)
    if args.record_stepping:
        record_stepping(args.record_stepping)
        return
    if args.only == "ddp":
        results = ddp(args)
    else:
        results = scenarios(args)
        if args.only:
            wanted = set(args.only.split(","))
            results = [r for r in results if r["scenario"] in wanted]
    for r in results:
        print("TRUTH " + json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
