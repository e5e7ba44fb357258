"""The two Kafka clients behind one small interface: confluent-kafka (preferred when installed) or kafka-python."""

import json
import threading

BACKENDS = ("confluent", "kafka-python")


def choose_backend(backend="auto"):
    """'confluent' or 'kafka-python': the one asked for, or with 'auto' the first installed."""
    if backend not in ("auto",) + BACKENDS:
        raise ValueError("backend must be auto, confluent or kafka-python, got %r" % (backend,))
    for name, module in (("confluent", "confluent_kafka"), ("kafka-python", "kafka")):
        if backend in ("auto", name):
            try:
                __import__(module)
                return name
            except ImportError:
                if backend == name:
                    raise ImportError("backend %r asked for, but %s is not installed" % (name, module)) from None
    raise ImportError("trainwatch_client needs a Kafka client: pip install confluent-kafka (or kafka-python); "
                      "on Debian: apt-get install python3-confluent-kafka (or python3-kafka)")


class Producer:
    """send(key, value) never raises for delivery problems: they are counted in .delivered / .failed."""

    def __init__(self, bootstrap_servers, backend="auto", client_config=None):
        self.backend = choose_backend(backend)
        self.delivered = 0
        self.failed = 0
        self.last_error = None
        self._lock = threading.Lock()
        config = dict(client_config or {})
        if self.backend == "confluent":
            import confluent_kafka
            conf = {"bootstrap.servers": bootstrap_servers, "enable.idempotence": True, "linger.ms": 20,
                    "client.id": "trainwatch-client"}
            conf.update(config)
            self._p = confluent_kafka.Producer(conf)
        else:
            import kafka
            import kafka.errors
            conf = {"bootstrap_servers": bootstrap_servers, "acks": "all", "linger_ms": 20, "retries": 5,
                    # one request in flight keeps a run's events in order when a send is retried
                    "max_in_flight_requests_per_connection": 1, "client_id": "trainwatch-client"}
            conf.update(config)
            self._p = kafka.KafkaProducer(**conf)

    def _ok(self, *_):
        with self._lock:
            self.delivered += 1

    def _error(self, err):
        with self._lock:
            self.failed += 1
            self.last_error = str(err)

    def send(self, topic, key, value):
        if self.backend == "confluent":
            def on_delivery(err, _msg):
                if err is None:
                    self._ok()
                else:
                    self._error(err)
            while True:
                try:
                    self._p.produce(topic, value=value, key=key, on_delivery=on_delivery)
                    break
                except BufferError:  # local queue full: serve delivery reports, then retry (this is the sender thread)
                    self._p.poll(0.1)
            self._p.poll(0)
        else:
            f = self._p.send(topic, key=key, value=value)
            f.add_callback(self._ok)
            f.add_errback(self._error)

    def poll(self):
        if self.backend == "confluent":
            self._p.poll(0)

    def flush(self, timeout):
        """True when everything handed over was acknowledged within timeout seconds."""
        if self.backend == "confluent":
            return self._p.flush(max(0.0, timeout)) == 0
        try:
            self._p.flush(timeout=max(0.0, timeout))
            return True
        except Exception as e:  # kafka.errors.KafkaTimeoutError
            self.last_error = str(e)
            return False

    def close(self, timeout):
        if self.backend == "kafka-python":
            self._p.close(timeout=max(0.0, timeout))


class CommittedReader:
    """Reads every partition of one topic from its beginning (or end) with read_committed semantics; yields
    (key bytes, value bytes) through poll(timeout). Not a consumer group: nothing is committed."""

    def __init__(self, bootstrap_servers, topic, from_beginning=True, backend="auto", client_config=None):
        self.backend = choose_backend(backend)
        self.topic = topic
        config = dict(client_config or {})
        if self.backend == "confluent":
            import confluent_kafka
            conf = {"bootstrap.servers": bootstrap_servers, "group.id": "trainwatch-suggestions", "enable.auto.commit": False,
                    "isolation.level": "read_committed", "enable.partition.eof": False}
            conf.update(config)
            self._c = confluent_kafka.Consumer(conf)
            meta = self._c.list_topics(topic, timeout=15)
            t = meta.topics.get(topic)
            if t is None or t.error is not None or not t.partitions:
                raise RuntimeError("topic %s not found at %s" % (topic, bootstrap_servers))
            offset = confluent_kafka.OFFSET_BEGINNING if from_beginning else confluent_kafka.OFFSET_END
            self._c.assign([confluent_kafka.TopicPartition(topic, p, offset) for p in sorted(t.partitions)])
        else:
            import kafka
            import kafka.errors
            conf = {"bootstrap_servers": bootstrap_servers, "group_id": None, "enable_auto_commit": False}
            conf.update(config)
            try:
                # kafka-python >= 2.1 knows read_committed
                self._c = kafka.KafkaConsumer(isolation_level="read_committed", **conf)
            except kafka.errors.KafkaConfigurationError:
                # kafka-python 2.0 (Debian 12) always fetches read_uncommitted; its fetcher sends the level it holds, so
                # ask the broker for read_committed: records of open transactions then never arrive. It neither drops
                # aborted records nor skips transaction markers, so Suggestions also ignores records that are not
                # alert JSON and repeats of an alert (an aborted transaction is written again after the job restores).
                self._c = kafka.KafkaConsumer(**conf)
                fetcher = getattr(self._c, "_fetcher", None)
                if fetcher is not None and hasattr(fetcher, "_isolation_level"):
                    fetcher._isolation_level = 1
            parts = self._c.partitions_for_topic(topic)
            if not parts:
                raise RuntimeError("topic %s not found at %s" % (topic, bootstrap_servers))
            tps = [kafka.TopicPartition(topic, p) for p in sorted(parts)]
            self._c.assign(tps)
            if from_beginning:
                self._c.seek_to_beginning(*tps)
            else:
                self._c.seek_to_end(*tps)

    def poll(self, timeout):
        out = []
        if self.backend == "confluent":
            for m in self._c.consume(num_messages=500, timeout=timeout):
                if m.error() is None:
                    out.append((m.key(), m.value()))
        else:
            for records in self._c.poll(timeout_ms=int(timeout * 1000)).values():
                out.extend((r.key, r.value) for r in records)
        return out

    def close(self):
        self._c.close()


def parse_json_object(value):
    """The JSON object in a record value, or None (transaction markers, foreign records)."""
    if not value:
        return None
    try:
        obj = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None
