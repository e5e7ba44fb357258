"""Prints the alerts trainwatch writes for one run, as they arrive (read committed, each once), one JSON per line.

    /usr/bin/python3 clients/python/examples/watch_alerts.py --bootstrap-servers localhost:9092 --run-id mlp-1 [--seconds 60]
"""

import argparse
import json
import sys

from trainwatch_client import Suggestions


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap-servers", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--topic", default="trainwatch.alerts")
    p.add_argument("--backend", default="auto", choices=["auto", "confluent", "kafka-python"])
    p.add_argument("--seconds", type=float, help="stop after this many seconds (default: never)")
    args = p.parse_args(argv)
    with Suggestions(args.bootstrap_servers, args.run_id, args.topic, backend=args.backend) as s:
        for alert in s.iter(timeout=args.seconds):
            print(json.dumps(alert), flush=True)
        if s.last_error:
            print("error: " + s.last_error, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
