"""Two-process distributed training on CPU (gloo), reported to trainwatch: one stream per run, whatever the ranks do.

    torchrun --nproc_per_node 2 clients/python/tests/frameworks/ddp_runs.py --mode torch --bootstrap-servers localhost:9092 \
        --run-id ddp-1 --out-dir /tmp/ddp

--mode torch: a plain PyTorch DistributedDataParallel loop (AdamW, warmup + cosine) with two Reporters built on every
  rank: the default one (only global rank 0 reports, reduce_loss=True: the loss averaged over the ranks) as RUN_ID,
  and a ranks="all" one as RUN_ID-all, which every rank reports as RUN_ID-all/rank-<k> with its own loss.
--mode hf: a Hugging Face Trainer (transformers, DDP under torchrun) with trainwatch_client.hf.TrainwatchCallback
  as RUN_ID, logging_steps=1; a second callback records what HF logs and the LR every optimizer step really used.

Every rank writes what it saw to OUT_DIR/<mode>-rank-<k>.json: the LRs the optimizer used per step, the loss
reported (torch: the all-gathered mean and this rank's own; hf: what HF logged on this rank), the Reporter's counters.
DistributedTrainingITCase compares these with what reached Kafka.
"""

import argparse
import json
import os
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.optim import lr_scheduler as L

from trainwatch_client import Reporter

from hf_regression import Regression

STEPS = 30
BATCH = 16
WARMUP = 5


def mlp():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))


def torch_ddp(args, rank, world):
    dist.init_process_group("gloo")
    torch.manual_seed(0)  # the same initial weights on every rank (DDP broadcasts rank 0's anyway)
    model = nn.parallel.DistributedDataParallel(mlp())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=WARMUP),
                                 L.CosineAnnealingLR(opt, T_max=STEPS - WARMUP)], milestones=[WARMUP])
    one = Reporter(args.bootstrap_servers, args.run_id, topic=args.topic, reduce_loss=True)
    every = Reporter(args.bootstrap_servers, args.run_id + "-all", topic=args.topic, ranks="all")
    one.run_start(opt, sched, grad_clip=1.0)
    every.run_start(opt, sched, grad_clip=1.0)
    g = torch.Generator().manual_seed(100 + rank)  # each rank its own shard of the data
    seen = {"lrs": [], "mean_loss": [], "own_loss": []}
    for step in range(STEPS):
        x = torch.randn(BATCH, 16, generator=g)
        y = x[:, :1] * 0.5
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        one.step(step, loss, opt, grad_norm=norm)      # every rank calls it: reduce_loss all-reduces
        every.step(step, loss, opt, grad_norm=norm)
        gathered = [torch.zeros(()) for _ in range(world)]
        dist.all_gather(gathered, loss.detach())
        seen["mean_loss"].append(torch.stack(gathered).mean().item())
        seen["own_loss"].append(loss.item())
        seen["lrs"].append([grp["lr"] for grp in opt.param_groups])  # the LR this optimizer step uses
        opt.step()
        sched.step()
        opt.zero_grad()
    for r in (one, every):
        r.run_end("completed")
    closed = [r.close(timeout=30) for r in (one, every)]
    dist.barrier()
    dist.destroy_process_group()
    seen["reporters"] = [{"run_id": r.run_id, "active": r.active, "sent": r.sent, "delivered": r.delivered, "dropped": r.dropped,
                          "closed_ok": ok} for r, ok in zip((one, every), closed)]
    return seen


def hf_trainer(args, rank, world):
    from transformers import Trainer, TrainerCallback, TrainingArguments
    from trainwatch_client.hf import TrainwatchCallback

    class Recorder(TrainerCallback):
        """What HF logs on this rank, and the LR each optimizer step really used."""

        def __init__(self):
            self.lrs, self.losses = {}, {}

        def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
            self.lrs[int(state.global_step)] = [grp["lr"] for grp in optimizer.param_groups]

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.losses[int(state.global_step) - 1] = logs["loss"]

    g = torch.Generator().manual_seed(7)
    x = torch.randn(STEPS * BATCH * world, 16, generator=g)
    data = [{"x": x[i], "labels": x[i, :1] * 0.5} for i in range(len(x))]
    targs = TrainingArguments(output_dir=os.path.join(args.out_dir, "hf-output"), run_name=args.run_id, max_steps=STEPS,
                              per_device_train_batch_size=BATCH, learning_rate=1e-2, warmup_steps=WARMUP, lr_scheduler_type="cosine",
                              logging_steps=1, max_grad_norm=1.0, report_to=[], save_strategy="no", disable_tqdm=True, use_cpu=True,
                              ddp_backend="gloo", ddp_find_unused_parameters=False, seed=0, dataloader_num_workers=0, logging_nan_inf_filter=False)
    watch = TrainwatchCallback(args.bootstrap_servers, topic=args.topic)
    recorder = Recorder()
    trainer = Trainer(model=Regression(mlp()), args=targs, train_dataset=data, callbacks=[watch, recorder])
    trainer.train()
    steps = sorted(recorder.lrs)
    return {"lrs": [recorder.lrs[s] for s in steps], "lr_steps": steps, "hf_logged_loss": {str(s): v for s, v in recorder.losses.items()},
            "is_world_process_zero": trainer.state.is_world_process_zero, "client_errors": getattr(watch, "client_errors", 0),
            "declared_from": watch.declared_from}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("torch", "hf"), required=True)
    p.add_argument("--bootstrap-servers", required=True)
    p.add_argument("--topic", default="trainwatch.events")
    p.add_argument("--run-id", required=True)
    p.add_argument("--out-dir", required=True)
    args = p.parse_args()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    started = time.monotonic()
    seen = (torch_ddp if args.mode == "torch" else hf_trainer)(args, rank, world)
    seen.update(rank=rank, world_size=world, seconds=round(time.monotonic() - started, 2))
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "%s-rank-%d.json" % (args.mode, rank)), "w") as f:
        json.dump(seen, f)


if __name__ == "__main__":
    main()
