"""Never in the way, proven with everything of ours failing: trains for real twice with the same seed — once without
trainwatch, once with every client call made to raise — and checks the two runs end with the same weights and loss.

    clients/python/.venvs/torch2-tf5/bin/python clients/python/tests/frameworks/failing_client.py --bootstrap-servers localhost:9092

hf         a Hugging Face Trainer (30 steps, CPU) with trainwatch_client.hf.TrainwatchCallback, while Reporter.run_start,
           step, run_end, close, _grad_norm, the Kafka producer's send and flush, and the spec functions all raise
lightning  the same with a Lightning fit and trainwatch_client.lightning.TrainwatchCallback
torch      the plain Reporter called from the user's own loop while the Kafka producer's send and flush raise (Kafka
           trouble): step() must never raise, the trouble is counted (last_error, nothing delivered)

Only our own client is patched (that is the point); the broker, when given, is real. Prints one JSON line per case
and exits 1 if any case differs from its reference.
"""

import argparse
import contextlib
import json
import sys
import tempfile
import warnings

import torch
from torch import nn

import trainwatch_client
from trainwatch_client import Reporter, _kafka, reporter as reporter_module, spec as spec_module

from hf_regression import Regression

STEPS = 30
BATCH = 16


class Injected(RuntimeError):
    """What every patched client call raises."""


def _raise(*args, **kwargs):
    raise Injected("injected client failure")


@contextlib.contextmanager
def everything_fails():
    """Every client call raises: the Reporter's methods, the Kafka producer's, the spec functions wherever imported."""
    targets = [(Reporter, name) for name in ("run_start", "step", "run_end", "close", "_grad_norm")]
    targets += [(_kafka.Producer, "send"), (_kafka.Producer, "flush")]
    for module in (spec_module, reporter_module, trainwatch_client):
        targets += [(module, name) for name in ("spec_from_scheduler", "hf_spec") if hasattr(module, name)]
    for module_name in ("trainwatch_client.hf", "trainwatch_client.lightning"):
        module = sys.modules.get(module_name)
        if module is not None:
            targets += [(module, name) for name in ("spec_from_scheduler", "hf_spec", "spec_from_training_args") if hasattr(module, name)]
    saved = [(obj, name, getattr(obj, name)) for obj, name in targets]
    for obj, name, _ in saved:
        setattr(obj, name, _raise)
    try:
        yield
    finally:
        for obj, name, original in saved:
            setattr(obj, name, original)


@contextlib.contextmanager
def kafka_fails():
    saved = [(name, getattr(_kafka.Producer, name)) for name in ("send", "flush")]
    for name, _ in saved:
        setattr(_kafka.Producer, name, _raise)
    try:
        yield
    finally:
        for name, original in saved:
            setattr(_kafka.Producer, name, original)


def mlp():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))


def data():
    g = torch.Generator().manual_seed(7)
    x = torch.randn(STEPS * BATCH, 16, generator=g)
    return x, x[:, :1] * 0.5


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def hooks_warned(caught):
    """hook name -> number of "trainwatch: <hook> failed" warnings."""
    out = {}
    for w in caught:
        text = str(w.message)
        if text.startswith("trainwatch: ") and " failed (" in text:
            hook = text[len("trainwatch: "):].split(" ", 1)[0]
            out[hook] = out.get(hook, 0) + 1
    return out


def hf_case(servers):
    from transformers import Trainer, TrainingArguments
    from trainwatch_client.hf import TrainwatchCallback

    x, y = data()
    rows = [{"x": x[i], "labels": y[i]} for i in range(len(x))]

    def train(callbacks):
        torch.manual_seed(0)  # the same initial weights in both runs
        targs = TrainingArguments(output_dir=tempfile.mkdtemp(), run_name="failing-hf", max_steps=STEPS, per_device_train_batch_size=BATCH,
                                  learning_rate=1e-2, warmup_steps=5, lr_scheduler_type="cosine", logging_steps=1, report_to=[],
                                  save_strategy="no", disable_tqdm=True, use_cpu=True, seed=0, dataloader_num_workers=0)
        trainer = Trainer(model=Regression(mlp()), args=targs, train_dataset=rows, callbacks=callbacks)
        out = trainer.train()
        return trainer.model.state_dict(), out.training_loss, trainer.state.global_step

    ref_weights, ref_loss, ref_steps = train([])
    callback = TrainwatchCallback(servers) if servers else TrainwatchCallback(sink=lambda k, v: None)
    with everything_fails(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # count every warning issued, not Python's once-per-place filter
        weights, loss, steps = train([callback])
    return {"case": "hf", "steps": steps, "reference_steps": ref_steps, "same_weights": same_weights(ref_weights, weights),
            "loss": loss, "reference_loss": ref_loss, "client_errors": getattr(callback, "client_errors", 0), "warnings_per_hook": hooks_warned(caught)}


def lightning_case(servers):
    import lightning as L
    from trainwatch_client.lightning import TrainwatchCallback

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = mlp()
            self.last_loss = None

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = nn.functional.mse_loss(self.net(x), y)
            self.last_loss = loss.item()
            return loss

        def configure_optimizers(self):
            opt = torch.optim.AdamW(self.parameters(), lr=1e-2)
            sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    x, y = data()

    def train(callbacks):
        L.seed_everything(0, verbose=False)
        module = Module()
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        trainer = L.Trainer(max_steps=STEPS, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, gradient_clip_val=1.0, callbacks=callbacks, default_root_dir=tempfile.mkdtemp())
        trainer.fit(module, loader)
        return module.state_dict(), module.last_loss, trainer.global_step

    ref_weights, ref_loss, ref_steps = train([])
    callback = TrainwatchCallback(servers, "failing-lightning") if servers else TrainwatchCallback(run_id="failing-lightning", sink=lambda k, v: None)
    with everything_fails(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        weights, loss, steps = train([callback])
    return {"case": "lightning", "steps": steps, "reference_steps": ref_steps, "same_weights": same_weights(ref_weights, weights),
            "loss": loss, "reference_loss": ref_loss, "client_errors": getattr(callback, "client_errors", 0), "warnings_per_hook": hooks_warned(caught)}


def torch_case(servers):
    x, y = data()

    def train(report):
        torch.manual_seed(0)
        model = mlp()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
        tw = None
        if report:
            tw = Reporter(servers, "failing-torch") if servers else Reporter(run_id="failing-torch", sink=_raise)
            tw.run_start(opt, sched)
        for step in range(STEPS):
            xb, yb = x[step * BATCH:(step + 1) * BATCH], y[step * BATCH:(step + 1) * BATCH]
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            if tw is not None:
                tw.step(step, loss, opt, model)  # must not raise, whatever Kafka does
            opt.step()
            sched.step()
            opt.zero_grad()
        if tw is not None:
            tw.run_end()
            closed = tw.close(timeout=5)
            return model.state_dict(), loss.item(), {"sent": tw.sent, "delivered": tw.delivered, "dropped": tw.dropped, "send_errors": tw.send_errors, "closed_ok": closed,
                                                     "last_error": tw.last_error}
        return model.state_dict(), loss.item(), None

    ref_weights, ref_loss, _ = train(False)
    with kafka_fails():
        weights, loss, counters = train(True)
    return {"case": "torch", "steps": STEPS, "reference_steps": STEPS, "same_weights": same_weights(ref_weights, weights), "loss": loss,
            "reference_loss": ref_loss, "reporter": counters}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap-servers", help="a real broker; without it the clients write to a sink that drops the bytes")
    p.add_argument("--cases", default="torch,hf,lightning")
    args = p.parse_args()
    cases = {"torch": torch_case, "hf": hf_case, "lightning": lightning_case}
    ok = True
    for name in args.cases.split(","):
        result = cases[name](args.bootstrap_servers)
        ok = ok and result["same_weights"] and result["loss"] == result["reference_loss"] and result["steps"] == result["reference_steps"] == STEPS
        print(json.dumps(result), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
