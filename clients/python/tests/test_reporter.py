"""Reporter: the events it writes, when it sends run_start, the resume shift, never blocking, dropping and counting."""

import json
import math
import threading
import time
import unittest
import warnings

import torch
from torch import nn
from torch.optim import lr_scheduler as L

from trainwatch_client import JsonLinesSink, Reporter
from trainwatch_client._kafka import choose_backend


class Captured:
    """A sink that keeps the decoded events (json.loads reads bare NaN back as float nan)."""

    def __init__(self):
        self.raw = []

    def __call__(self, key, value):
        self.raw.append((key, value))

    @property
    def events(self):
        return [json.loads(v) for _, v in self.raw]


def model_and_optimizer(lr=0.1):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": lr / 10}], lr=lr)
    return model, opt


def backward(model, x=None):
    x = torch.randn(16, 4) if x is None else x
    loss = model(x).pow(2).mean()
    loss.backward()
    return loss


class ReporterTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", UserWarning)

    def test_writes_run_start_steps_and_run_end_in_event_format_v1(self):
        sink = Captured()
        model, opt = model_and_optimizer()
        sched = L.StepLR(opt, 2, 0.5)
        r = Reporter(run_id="r1", sink=sink)
        r.run_start(opt, sched, grad_accum_steps=2, steps_per_epoch=10, grad_clip=1.0, thresholds={"spike_mad_k": 10})
        for step in range(3):
            loss = backward(model)
            r.step(step, loss, opt, model, batch=["shard-1/%d" % step], epoch=step / 10)
            opt.step()
            sched.step()
            opt.zero_grad()
        r.run_end()
        self.assertTrue(r.close())
        ev = sink.events
        self.assertEqual([e["type"] for e in ev], ["run_start", "step", "step", "step", "run_end"])
        self.assertTrue(all(k == b"r1" for k, _ in sink.raw))
        start = ev[0]
        self.assertEqual((start["grad_accum_steps"], start["steps_per_epoch"], start["grad_clip"], start["optimizer"], start["thresholds"]),
                         (2, 10, 1.0, "SGD", {"spike_mad_k": 10}))
        self.assertEqual(start["schedule"], {"scheduler": "StepLR", "params": {"step_size": 2, "gamma": 0.5, "base_lrs": [0.1, 0.01],
                                                                              "last_epoch": -1}})
        self.assertEqual([e["lr"] for e in ev[1:4]], [[0.1, 0.01], [0.1, 0.01], [0.05, 0.005]])
        self.assertEqual(ev[1]["batch"], ["shard-1/0"])
        self.assertEqual(ev[4], {"type": "run_end", "run_id": "r1", "time": ev[4]["time"], "status": "completed", "step": 2})
        self.assertEqual((r.sent, r.delivered, r.dropped, r.failed), (5, 5, 0, 0))

    def test_grad_norm_is_the_l2_norm_over_all_gradients(self):
        sink = Captured()
        model, opt = model_and_optimizer()
        r = Reporter(run_id="r", sink=sink)
        backward(model)
        expected = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf")).item()
        r.step(0, 1.0, opt, model)
        r.step(1, 1.0, opt)  # no model: no grad norm
        r.step(2, 1.0, opt, grad_norm=3.5)
        r.close()
        ev = sink.events
        self.assertAlmostEqual(ev[0]["grad_norm"], expected, places=6)
        self.assertNotIn("grad_norm", ev[1])
        self.assertEqual(ev[2]["grad_norm"], 3.5)

    def test_sends_nan_and_infinity_bare_as_json_dumps_does(self):
        sink = Captured()
        model, opt = model_and_optimizer()
        r = Reporter(run_id="r", sink=sink)
        backward(model, torch.full((16, 4), float("nan")))
        r.step(7, torch.tensor(float("nan")), opt, model, loss_scale=float("inf"))
        r.close()
        raw = sink.raw[0][1].decode()
        self.assertIn('"loss":NaN', raw)
        self.assertIn('"grad_norm":NaN', raw)
        self.assertIn('"loss_scale":Infinity', raw)

    def test_run_start_waits_for_the_first_step_to_know_its_number(self):
        # a run resumed from a checkpoint: scheduler state restored at index 100, steps reported from 100
        sink = Captured()
        _, opt = model_and_optimizer()
        sched = L.CosineAnnealingLR(opt, 1000)
        for _ in range(100):
            opt.step()
            sched.step()
        r = Reporter(run_id="resumed", sink=sink)
        r.run_start(opt, sched)
        self.assertEqual(r.sent + r.queued, 0)
        r.step(100, 0.5, opt)
        r.close()
        start = sink.events[0]
        self.assertEqual(start["schedule"]["params"]["last_epoch"], -1)  # step 100 is index 100 of the uninterrupted schedule

    def test_explicit_start_step_and_a_scheduler_not_restored_on_resume(self):
        sink = Captured()
        _, opt = model_and_optimizer()
        sched = L.CosineAnnealingLR(opt, 1000)  # built anew at a resume, state not loaded
        r = Reporter(run_id="reset", sink=sink)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r.run_start(opt, sched, start_step=500)
        self.assertTrue(any("not restored on resume" in str(x.message) for x in w))
        r.close()
        self.assertEqual(sink.events[0]["schedule"]["params"]["last_epoch"], -1)

    def test_step_base_is_sent_only_when_given_and_only_0_or_1(self):
        sink = Captured()
        _, opt = model_and_optimizer()
        r = Reporter(run_id="b", sink=sink)
        for bad in (2, -1, True, "1"):
            with self.assertRaisesRegex(ValueError, "step_base must be 0 or 1"):
                r.run_start(opt, step_base=bad)
        r.run_start(opt, step_base=1, start_step=0)
        r.close()
        self.assertEqual(sink.events[0]["step_base"], 1)
        sink = Captured()
        r = Reporter(run_id="z", sink=sink)
        r.run_start(opt, start_step=0)
        r.close()
        self.assertNotIn("step_base", sink.events[0])

    def test_per_epoch_interval_is_declared_with_its_epoch_length(self):
        sink = Captured()
        _, opt = model_and_optimizer()
        r = Reporter(run_id="e", sink=sink)
        with self.assertRaisesRegex(ValueError, "steps_per_epoch"):
            r.run_start(opt, L.StepLR(opt, 3), interval="epoch")
        r.run_start(opt, L.StepLR(opt, 3), interval="epoch", steps_per_epoch=50, frequency=2)
        r.close()
        spec = sink.events[0]["schedule"]
        self.assertEqual((spec["interval"], spec["steps_per_epoch"], spec["frequency"]), ("epoch", 50, 2))

    def test_explicit_schedule_wins_and_base_lrs_lowered_by_a_warmup_are_flagged(self):
        sink = Captured()
        _, opt = model_and_optimizer()
        L.LinearLR(opt, 0.1, total_iters=10)  # sets the group LRs to 0.01 and 0.001
        declared = {"scheduler": "cosine", "params": {"num_warmup_steps": 10, "num_training_steps": 100,
                                                      "base_lrs": [g["lr"] for g in opt.param_groups]}}
        r = Reporter(run_id="x", sink=sink)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r.run_start(opt, L.StepLR(opt, 3), schedule=declared, start_step=0)
        self.assertTrue(any("differ from the optimizer's initial LRs" in str(x.message) for x in w))
        r.close()
        self.assertEqual(sink.events[0]["schedule"], declared)

    def test_batch_ids_are_bounded_as_the_job_requires(self):
        sink = Captured()
        _, opt = model_and_optimizer()
        r = Reporter(run_id="b", sink=sink)
        r.step(0, 1.0, opt, batch=torch.arange(1000))
        r.step(1, 1.0, opt, batch="x" * 1000)
        r.step(2, 1.0, opt, batch=17)
        r.close()
        ev = sink.events
        self.assertEqual(ev[0]["batch"], list(range(256)))
        self.assertEqual(len(ev[1]["batch"][0]), 256)
        self.assertEqual(ev[2]["batch"], [17])

    def test_step_never_waits_for_a_stuck_sender_and_counts_what_it_drops(self):
        release = threading.Event()

        def stuck(key, value):
            release.wait(10)
        model, opt = model_and_optimizer()
        r = Reporter(run_id="slow", sink=stuck, queue_size=50)
        backward(model)
        slowest = 0.0
        for step in range(500):
            t = time.perf_counter()
            r.step(step, 1.0, opt, model)
            slowest = max(slowest, time.perf_counter() - t)
        self.assertLess(slowest, 0.05)
        self.assertGreaterEqual(r.dropped, 500 - 51)
        release.set()
        r.run_end()  # never dropped, even with a full queue
        self.assertTrue(r.close(timeout=10))
        self.assertEqual(r.sent, 500 - r.dropped + 1)

    def test_context_manager_ends_a_failed_run(self):
        sink = Captured()
        _, opt = model_and_optimizer()
        with self.assertRaises(RuntimeError):
            with Reporter(run_id="f", sink=sink) as r:
                r.run_start(opt, None)
                r.step(0, 1.0, opt)
                raise RuntimeError("boom")
        self.assertEqual(sink.events[-1]["status"], "failed")

    def test_writes_json_lines_for_replay(self):
        import os
        import tempfile
        path = os.path.join(tempfile.mkdtemp(), "events.jsonl")
        _, opt = model_and_optimizer()
        r = Reporter(run_id="file", sink=JsonLinesSink(path))
        r.run_start(opt, None, start_step=0)
        r.step(0, float("inf"), opt)
        r.run_end()
        r.close()
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertTrue(math.isinf(json.loads(lines[1])["loss"]))

    def test_a_sink_that_fails_never_raises_into_the_loop_and_is_counted(self):
        class Broken:
            def __call__(self, key, value):
                raise OSError("disk full")

            def close(self):
                raise OSError("disk full")

        _, opt = model_and_optimizer()
        r = Reporter(run_id="broken", sink=Broken())
        r.run_start(opt, None, start_step=0)
        for step in range(3):
            self.assertTrue(r.step(step, 1.0, opt))
        r.run_end()
        self.assertFalse(r.close())  # says not everything went out, raises nothing
        self.assertEqual((r.sent, r.send_errors), (0, 5))
        self.assertIn("disk full", r.last_error)

    def test_validates_its_arguments(self):
        with self.assertRaisesRegex(ValueError, "run_id"):
            Reporter("localhost:9092", "")
        with self.assertRaisesRegex(ValueError, "bootstrap_servers"):
            Reporter(None, "r")
        with self.assertRaisesRegex(ValueError, "backend"):
            choose_backend("rabbitmq")


def _two_rank_worker(rank, port, folder):
    """One of two gloo ranks (torch.multiprocessing.spawn): reports 3 steps whose loss is rank + step, reduce_loss on,
    with a rank-0-only Reporter and an every-rank one (each all_reduce in the same order on both ranks)."""
    import os
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank, world_size=2)
    try:
        _, opt = model_and_optimizer()
        # a file per Reporter and rank: a rank that does not report must leave its file empty
        reporters = [Reporter(run_id="ddp", sink=JsonLinesSink(os.path.join(folder, "%s-%d.jsonl" % (ranks, rank))), ranks=ranks,
                              reduce_loss=True) for ranks in ("zero", "all")]
        for r in reporters:
            r.run_start(opt, None, start_step=0)
        for step in range(3):
            for r in reporters:
                r.step(step, torch.tensor(float(rank + step)), opt)
        for r in reporters:
            r.run_end()
            r.close()
    finally:
        dist.destroy_process_group()


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DistributedReporterTest(unittest.TestCase):
    """One stream per run under torch.distributed: the rank rule, the run id per rank, the loss averaged over ranks."""

    def setUp(self):
        import os
        self._env = {k: os.environ.get(k) for k in ("RANK", "WORLD_SIZE")}

    def tearDown(self):
        import os
        for k, v in self._env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_a_rank_other_than_zero_never_reports_nor_connects(self):
        import os
        os.environ.update(RANK="1", WORLD_SIZE="2")  # what torchrun sets before the script builds its process group
        _, opt = model_and_optimizer()
        # a port nothing listens on: an active Reporter would retry it in its thread; this one must not even start one
        r = Reporter("127.0.0.1:%d" % _free_port(), "run")
        self.assertEqual((r.active, r.rank, r.world_size, r.run_id), (False, 1, 2, "run"))
        r.run_start(opt, L.StepLR(opt, 1))
        self.assertTrue(r.step(0, 1.0, opt))
        r.run_end()
        self.assertTrue(r.close())
        self.assertFalse(hasattr(r, "_thread"))
        self.assertEqual((r.sent, r.delivered, r.dropped, r.failed, r.queued, r.last_error), (0, 0, 0, 0, 0, None))

    def test_rank_zero_reports_under_the_run_id_and_every_rank_with_ranks_all(self):
        import os
        _, opt = model_and_optimizer()
        os.environ.update(RANK="0", WORLD_SIZE="2")
        sink = Captured()
        r = Reporter(run_id="run", sink=sink)
        r.step(0, 1.0, opt)
        r.close()
        self.assertTrue(r.active)
        self.assertEqual({k for k, _ in sink.raw}, {b"run"})
        os.environ.update(RANK="1", WORLD_SIZE="2")
        sink = Captured()
        r = Reporter(run_id="run", sink=sink, ranks="all")
        r.step(0, 1.0, opt)
        r.close()
        self.assertEqual(r.run_id, "run/rank-1")
        self.assertEqual({(k, e["run_id"]) for (k, _), e in zip(sink.raw, sink.events)}, {(b"run/rank-1", "run/rank-1")})
        with self.assertRaisesRegex(ValueError, "ranks"):
            Reporter(run_id="run", sink=sink, ranks="one")
        with self.assertRaisesRegex(ValueError, "rank suffix"):
            Reporter(run_id="r" * 256, sink=sink, ranks="all")

    def test_without_distributed_training_ranks_change_nothing(self):
        import os
        os.environ.pop("RANK", None)
        os.environ.pop("WORLD_SIZE", None)
        sink = Captured()
        r = Reporter(run_id="run", sink=sink, ranks="all", reduce_loss=True)
        _, opt = model_and_optimizer()
        r.step(0, torch.tensor(2.5), opt)
        r.close()
        self.assertEqual((r.active, r.rank, r.world_size, r.run_id), (True, 0, 1, "run"))
        self.assertEqual(sink.events[0]["loss"], 2.5)

    def test_two_gloo_ranks_give_one_stream_with_the_mean_loss(self):
        import os
        import tempfile
        import torch.multiprocessing as mp
        os.environ.pop("RANK", None)
        os.environ.pop("WORLD_SIZE", None)
        folder = tempfile.mkdtemp()
        mp.spawn(_two_rank_worker, args=(_free_port(), folder), nprocs=2, join=True)
        expected = {"zero-0": "ddp", "zero-1": None, "all-0": "ddp/rank-0", "all-1": "ddp/rank-1"}
        for name, run_id in expected.items():
            with open(os.path.join(folder, name + ".jsonl")) as f:
                events = [json.loads(line) for line in f]
            if run_id is None:
                self.assertEqual(events, [], "rank 1 must not report with ranks='zero'")
                continue
            self.assertEqual([e["type"] for e in events], ["run_start", "step", "step", "step", "run_end"], name)
            self.assertEqual({e["run_id"] for e in events}, {run_id})
            # losses rank + step averaged over ranks 0 and 1: step + 0.5 on both
            self.assertEqual([e["loss"] for e in events[1:4]], [0.5, 1.5, 2.5])


if __name__ == "__main__":
    unittest.main()
