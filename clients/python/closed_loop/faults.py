"""Real training runs with one fault each, and the same runs with a trainwatch suggestion applied.

One small task for every fault: an MLP (16 -> 64 -> 64 -> 1, ReLU) regressing a fixed random teacher network on
synthetic data, 15 epochs x 20 optimizer steps of 64 samples (300 steps), CPU, seeded. A run is described by a plain
dict (``Config``) and trained by :func:`train`; the final loss is the MSE on 1,024 held-out samples of the same teacher
(clean data, whatever the training batches were), so a run that ends in NaN weights scores NaN.

Checkpoints are kept as a user's script would: the full state (model, optimizer, scheduler, where the data loader
was) after every optimizer step in memory (for rewinds), and every CHECKPOINT_EVERY steps on disk (for resumes).
Batches are named ``e<epoch>/b<index>``; a bad batch is bad data, so it is bad whenever it is drawn.
"""

import copy
import os

import torch
from torch import nn
from torch.optim import lr_scheduler as L

EPOCHS = 15
SAMPLES = 5120
BATCH = 256
STEPS_PER_EPOCH = SAMPLES // BATCH  # 20
TOTAL_STEPS = EPOCHS * STEPS_PER_EPOCH  # 300
EVAL_SAMPLES = 1024
FEATURES = 16
CHECKPOINT_EVERY = 50


def base_config(seed):
    """The healthy recipe the faults start from: AdamW, warmup 30 then cosine, stepped after every optimizer step."""
    return {
        "seed": seed,
        "optimizer": "adamw",
        "lr": 3e-3,
        "momentum": 0.0,
        "warmup": 30,
        "warmup_start": 0.1,
        "decay": "cosine",
        "stepping": "step",  # "epoch": scheduler.step() once per epoch (the bug)
        "accum": 1,  # micro-batches per optimizer step
        "size_on_micro": False,  # the bug: schedule sized from len(loader) * epochs with accumulation on
        "model": "mlp",  # or "linear": one nn.Linear, whose curvature is fixed by the data
        "feature_scale": 1.0,  # scale of input feature 0 (a stiff direction for SGD)
        "clip": None,  # clip_grad_norm_ max_norm
        "bad_batches": {},  # batch id -> "inf" (one corrupted input) or "labels" (labels x LABEL_SCALE)
        "skip_batches": [],
        "finite_guard": True,  # skip the optimizer step on a non-finite loss (off: NaN reaches the weights)
        "crash_after": None,  # the process dies after this step; resumed from the last disk checkpoint
        "restore_scheduler": True,  # on resume: scheduler.load_state_dict (False: built anew, the bug)
    }


LABEL_SCALE = 25.0
# noisy labels: SGD noise at a high LR costs accuracy that only a decaying LR wins back (what makes a schedule matter)
LABEL_NOISE = 0.5


def data(seed, feature_scale):
    g = torch.Generator().manual_seed(seed)
    w0 = torch.randn(FEATURES, 1, generator=g) / 4
    w1 = torch.randn(FEATURES, 32, generator=g) / 4
    if feature_scale != 1.0:
        w0[0] = 0.0  # a stiff feature that carries no signal
        w1[0] = 0.0
    w2 = torch.randn(32, 1, generator=g) / 4
    scale = torch.ones(FEATURES)
    scale[0] = feature_scale

    def sample(n):
        x = torch.randn(n, FEATURES, generator=g)
        clean = x @ w0 + torch.tanh(x @ w1) @ w2
        return x * scale, clean + LABEL_NOISE * torch.randn(n, 1, generator=g), clean

    x, y, _ = sample(SAMPLES)
    ex, _, eclean = sample(EVAL_SAMPLES)
    # judged against the clean teacher: how far the fit is from the function, not the label noise
    return x, y, ex, eclean


def build(cfg):
    """Model, optimizer and scheduler as the run's script builds them (seeded)."""
    torch.manual_seed(cfg["seed"])
    if cfg["model"] == "linear":
        # the stiff feature 0 carries no signal (see data) and starts at its optimum, 0: SGD with an LR past
        # 2 / curvature amplifies only the noise the batches put into it, so the loss first falls, then climbs
        model = nn.Linear(FEATURES, 1)
        with torch.no_grad():
            model.weight[0, 0] = 0.0
    else:
        model = nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    else:
        decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
        no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=cfg["lr"])
    return model, opt, scheduler(cfg, opt)


def scheduler(cfg, opt):
    # sized in optimizer steps, or (the micro-batch bug) in loader batches
    k = cfg["accum"] if cfg["size_on_micro"] else 1
    total = TOTAL_STEPS * k
    warmup = cfg["warmup"] * k
    if cfg["decay"] == "constant":
        decay = L.ConstantLR(opt, factor=1.0, total_iters=0)
    else:
        decay = L.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=cfg["lr"] * 0.01)
    if warmup <= 0:
        return decay
    ramp = L.LinearLR(opt, start_factor=cfg["warmup_start"], total_iters=warmup)
    return L.SequentialLR(opt, [ramp, decay], milestones=[warmup])


def declared_schedule(cfg, opt):
    """What the run is meant to do, in optimizer steps (its config), as a trainwatch schedule spec."""
    base = [g["initial_lr"] for g in opt.param_groups]
    if cfg["decay"] == "constant":
        decay = {"scheduler": "ConstantLR", "params": {"factor": 1.0, "total_iters": 0}}
    else:
        decay = {"scheduler": "CosineAnnealingLR", "params": {"T_max": TOTAL_STEPS - cfg["warmup"],
                                                              "eta_min": cfg["lr"] * 0.01}}
    if cfg["warmup"] <= 0:
        return dict(decay, params=dict(decay["params"], base_lrs=base))
    return {"scheduler": "SequentialLR", "params": {
        "schedulers": [{"scheduler": "LinearLR", "params": {"start_factor": cfg["warmup_start"],
                                                            "total_iters": cfg["warmup"]}}, decay],
        "milestones": [cfg["warmup"]], "base_lrs": base}}


def order(seed, epoch):
    return torch.randperm(SAMPLES, generator=torch.Generator().manual_seed(seed * 1000 + epoch))


def snapshot(model, opt, sched, epoch, index, step):
    """The full state after optimizer step ``step``: training goes on with batch ``index`` of ``epoch``."""
    return copy.deepcopy({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                          "epoch": epoch, "index": index, "step": step})


def evaluate(model, ex, ey):
    with torch.no_grad():
        return float(nn.functional.mse_loss(model(ex), ey))


class Run:
    """One training run: ``train(reporter)`` trains it to the end (or from a checkpoint to the end)."""

    def __init__(self, cfg, ckpt_dir=None):
        self.cfg = cfg
        self.ckpt_dir = ckpt_dir
        self.checkpoints = {}  # step -> snapshot after it, in memory
        self.steps = 0
        self.losses = []
        self.non_finite_steps = 0
        self.skipped = []
        self.resumed_at = None

    def train(self, new_reporter, start=None, before_start=None, declare=None):
        """Trains from scratch, or from checkpoint ``start`` (a snapshot) on. ``before_start(opt, sched)`` runs once the
        state is loaded, before run_start (where a user applies a suggestion); ``declare(cfg, opt, sched)`` returns the
        run_start keyword arguments (default: the spec read off the scheduler). ``new_reporter()`` makes the run's
        Reporter (again for a resumed process: the same run id)."""
        cfg = self.cfg
        self.new_reporter = new_reporter
        reporter = self.reporter = new_reporter()
        torch.set_num_threads(1)
        x, y, ex, ey = data(cfg["seed"], cfg["feature_scale"])
        model, opt, sched = build(cfg)
        epoch0, index0, step = 0, 0, 0
        if start is not None:
            model.load_state_dict(start["model"])
            opt.load_state_dict(start["opt"])
            sched.load_state_dict(start["sched"])
            epoch0, index0, step = start["epoch"], start["index"], start["step"] + 1
        if before_start is not None:
            before_start(opt, sched)
        self._declare(reporter, opt, sched, declare)
        crash_after = cfg["crash_after"]
        while True:
            stepped = self._epochs(reporter, model, opt, sched, x, y, epoch0, index0, step, crash_after)
            if stepped is None:
                break
            # the process died after step `stepped`: a new process resumes from the last checkpoint on disk
            crash_after = None
            model, opt, sched, epoch0, index0, step = self._resume(stepped)
            reporter = self.reporter
        reporter.run_end("completed", self.last_step)
        return evaluate(model, ex, ey)

    def _declare(self, reporter, opt, sched, declare):
        kwargs = declare(self.cfg, opt, sched) if declare else {}
        kwargs.setdefault("grad_accum_steps", self.cfg["accum"])
        kwargs.setdefault("steps_per_epoch", STEPS_PER_EPOCH)
        kwargs.setdefault("grad_clip", self.cfg["clip"])
        reporter.run_start(opt, sched, **kwargs)

    def _epochs(self, reporter, model, opt, sched, x, y, epoch0, index0, step, crash_after):
        cfg = self.cfg
        accum = cfg["accum"]
        micro = BATCH // accum
        loss_fn = nn.MSELoss()
        skip = set(cfg["skip_batches"])
        for epoch in range(epoch0, EPOCHS):
            perm = order(cfg["seed"], epoch)
            for index in range(index0 if epoch == epoch0 else 0, STEPS_PER_EPOCH):
                batch_id = "e%d/b%d" % (epoch, index)
                if batch_id in skip:
                    self.skipped.append(batch_id)
                    continue
                idx = perm[index * BATCH:(index + 1) * BATCH]
                xb, yb = x[idx], y[idx]
                bad = cfg["bad_batches"].get(batch_id)
                if bad == "inf":
                    xb = xb.clone()
                    xb[3, 5] = float("inf")
                elif bad == "labels":
                    yb = yb * cfg.get("label_scale", LABEL_SCALE)
                losses = []
                for m in range(accum):
                    loss = loss_fn(model(xb[m * micro:(m + 1) * micro]), yb[m * micro:(m + 1) * micro])
                    (loss / accum).backward()
                    losses.append(loss.detach())
                step_loss = torch.stack(losses).mean()
                grad_norm = None
                if cfg["clip"]:
                    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
                reporter.step(step, step_loss, opt, model if grad_norm is None else None, batch=batch_id,
                              grad_norm=grad_norm, epoch=epoch + (index + 1) / STEPS_PER_EPOCH)
                finite = bool(torch.isfinite(step_loss))
                if finite or not cfg["finite_guard"]:
                    opt.step()
                opt.zero_grad(set_to_none=True)
                self.non_finite_steps += 0 if finite else 1
                self.losses.append(float(step_loss))
                if cfg["stepping"] == "step":
                    sched.step()
                self.last_step = step
                self.steps += 1
                nxt_epoch, nxt_index = (epoch, index + 1) if index + 1 < STEPS_PER_EPOCH else (epoch + 1, 0)
                if cfg["stepping"] == "epoch" and nxt_index == 0:
                    sched.step()  # the bug: once per epoch
                self.checkpoints[step] = snapshot(model, opt, sched, nxt_epoch, nxt_index, step)
                if self.ckpt_dir and (step + 1) % CHECKPOINT_EVERY == 0:
                    torch.save(self.checkpoints[step], os.path.join(self.ckpt_dir, "ckpt-%d.pt" % step))
                if crash_after is not None and step == crash_after:
                    return step
                step += 1
        return None

    def _resume(self, crashed_at):
        """What a resumed process does: load the last checkpoint on disk; the scheduler's state only if
        restore_scheduler (built anew otherwise). The same run id, a new run_start."""
        cfg = self.cfg
        last = max(s for s in self.checkpoints if (s + 1) % CHECKPOINT_EVERY == 0 and s <= crashed_at)
        state = torch.load(os.path.join(self.ckpt_dir, "ckpt-%d.pt" % last), weights_only=False)
        model, opt, sched = build(cfg)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        if cfg["restore_scheduler"]:
            sched.load_state_dict(state["sched"])
        else:
            # the bug: a fresh scheduler over an optimizer whose groups already have initial_lr; its LR starts over
            sched = scheduler(cfg, opt)
        self.resumed_at = last + 1
        self.reporter.close()  # the process died: no run_end
        self.reporter = self.new_reporter()
        self._declare(self.reporter, opt, sched, None)
        return model, opt, sched, state["epoch"], state["index"], last + 1

