"""Suggestions: which records become alerts (this run's, each once), and what apply() changes."""

import json
import queue
import unittest

import torch
from torch.optim import lr_scheduler as L

from trainwatch_client import Suggestions


class FakeReader:
    """Stands in for the Kafka reader: poll() hands out what the test queued."""

    def __init__(self, records):
        self.q = queue.SimpleQueue()
        for r in records:
            self.q.put(r)
        self.closed = False

    def poll(self, timeout):
        out = []
        while not self.q.empty():
            out.append(self.q.get())
        return out

    def close(self):
        self.closed = True


def alert(run, kind, status="open", step=10, **suggestion):
    a = {"alert_id": "%s/%s/%d" % (run, kind, step), "run_id": run, "kind": kind, "severity": "critical", "status": status,
         "step": step, "onset_step": step, "suggestion": suggestion}
    return run.encode(), json.dumps(a).encode()


def sgd(*lrs):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=lrs[0])


class SuggestionsTest(unittest.TestCase):
    def test_yields_this_runs_alerts_once_and_skips_markers_and_other_runs(self):
        records = [alert("a", "NON_FINITE"), alert("b", "NON_FINITE"), (b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x00"),
                   alert("a", "NON_FINITE"),  # rewritten after an aborted transaction
                   alert("a", "NON_FINITE", status="resolved", step=10), alert("a", "LR_MISMATCH", step=3)]
        reader = FakeReader(records)
        s = Suggestions(None, "a", reader=reader)
        got = list(s.iter(timeout=1.0))
        s.close()
        self.assertEqual([(a["kind"], a["status"]) for a in got], [("NON_FINITE", "open"), ("NON_FINITE", "resolved"), ("LR_MISMATCH", "open")])
        self.assertEqual(s.received, 3)
        self.assertTrue(reader.closed)

    def test_keeps_every_update_of_an_alert_and_drops_only_a_rewritten_one(self):
        # an incident's updates and a refined suggestion share alert_id and status; they differ in step or occurrences
        first = json.loads(alert("a", "LOSS_SPIKE", status="update", step=205, skip_batches=["e8/b3", "e10/b5"])[1])
        refined = dict(first, step=247, suggestion={"skip_batches": ["e8/b3", "e10/b5", "e12/b7"]})
        folded = dict(first, occurrences=4)
        records = [(b"a", json.dumps(r).encode()) for r in (first, refined, refined, folded)]
        s = Suggestions(None, "a", reader=FakeReader(records))
        got = list(s.iter(timeout=1.0))
        s.close()
        self.assertEqual([(a["step"], a.get("occurrences")) for a in got], [(205, None), (247, None), (205, 4)])
        self.assertEqual(got[1]["suggestion"]["skip_batches"], ["e8/b3", "e10/b5", "e12/b7"])

    def test_poll_never_waits(self):
        s = Suggestions(None, "a", reader=FakeReader([]))
        self.assertEqual(s.poll(), [])
        s.close()

    def test_apply_lowers_every_group_and_the_schedulers_base(self):
        opt = sgd(0.1, 0.01)
        sched = L.CosineAnnealingLR(opt, 100)
        s = Suggestions(None, "a", reader=FakeReader([]))
        a = json.loads(alert("a", "DIVERGENCE", action="lower_lr", lr_factor=0.5, new_lr=0.05, rewind_to_step=3)[1])
        self.assertIsNone(s.apply(a, opt, sched))
        self.assertEqual([g["lr"] for g in opt.param_groups], [0.05, 0.005])
        self.assertEqual(sched.base_lrs, [0.05, 0.005])
        s.apply(a, opt, sched)  # once per alert
        self.assertEqual([g["lr"] for g in opt.param_groups], [0.05, 0.005])
        opt.step()
        sched.step()
        self.assertLess(opt.param_groups[0]["lr"], 0.05)
        self.assertGreater(opt.param_groups[0]["lr"], 0.049)  # the cosine continues from the lowered level
        s.close()

    def test_apply_uses_new_lr_when_there_is_no_factor(self):
        opt = sgd(0.2, 0.02)
        s = Suggestions(None, "a", reader=FakeReader([]))
        s.apply(json.loads(alert("a", "STALL", action="lower_lr", new_lr=0.05)[1]), opt)
        self.assertEqual([round(g["lr"], 12) for g in opt.param_groups], [0.05, 0.005])
        s.close()

    def test_apply_returns_the_clip_threshold_and_ignores_other_actions(self):
        opt = sgd(0.1)
        s = Suggestions(None, "a", reader=FakeReader([]))
        clip = s.apply(json.loads(alert("a", "NON_FINITE", action="clip_grad_norm", max_norm=2.5, lr_factor=0.5)[1]), opt)
        self.assertEqual(clip, 2.5)
        self.assertEqual(opt.param_groups[0]["lr"], 0.1)  # the LR part of that advice is left to the user
        self.assertIsNone(s.apply(json.loads(alert("a", "NON_FINITE", action="inspect_batch", step=11)[1]), opt))
        self.assertIsNone(s.apply(json.loads(alert("a", "DIVERGENCE", status="resolved", action="lower_lr", lr_factor=0.5, step=12)[1]), opt))
        self.assertIsNone(s.apply(json.loads(alert("a", "DIVERGENCE", action="lower_lr", lr_factor=2.0, step=13)[1]), opt))
        self.assertEqual(opt.param_groups[0]["lr"], 0.1)
        s.close()

    def test_apply_scales_one_cycle_and_cyclic_levels(self):
        opt = sgd(0.1)
        one = L.OneCycleLR(opt, 0.1, total_steps=100)
        s = Suggestions(None, "a", reader=FakeReader([]))
        s.apply(json.loads(alert("a", "DIVERGENCE", action="lower_lr", lr_factor=0.5)[1]), opt, one)
        self.assertAlmostEqual(opt.param_groups[0]["max_lr"], 0.05)
        opt2 = sgd(0.1)
        cyc = L.CyclicLR(opt2, 0.001, 0.01, 10, cycle_momentum=False)
        s.apply(json.loads(alert("a", "DIVERGENCE", action="lower_lr", lr_factor=0.5, step=20)[1]), opt2, cyc)
        self.assertEqual((cyc.base_lrs, cyc.max_lrs), ([0.0005], [0.005]))
        s.close()


if __name__ == "__main__":
    unittest.main()
