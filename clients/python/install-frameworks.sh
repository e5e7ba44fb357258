#!/usr/bin/env bash
# Creates the Python environments the real-framework tests train in (and that a user can train in):
#   clients/python/.venvs/torch2-tf5  torch 2.x (CPU), the newest transformers 5.x, lightning 2.x, accelerate
# (no transformers 4.x: the newest the index serves, 4.57.6, requires huggingface_hub<1.0, and the index serves only
# huggingface_hub 1.33 and 2.0 — pip stops with ResolutionImpossible, and with --no-deps transformers refuses to import)
# from the package index pip is configured with (`pip config list`); nothing is fetched at test time.
# Idempotent: an environment whose requirements are unchanged is kept. Usage: install-frameworks.sh [python3]
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${1:-python3}"
VENVS=".venvs"
# an index that cannot be reached (PyPI from a machine with only a local index) fails fast instead of retrying 5 times
export PIP_RETRIES="${PIP_RETRIES:-0}" PIP_DISABLE_PIP_VERSION_CHECK=1
# The Kafka client: kafka-python from the index when it serves it, else Debian's python3-kafka (pure Python) is linked in
COMMON=(torch "lightning>=2,<3" accelerate numpy)
declare -A TRANSFORMERS=([torch2-tf5]="transformers>=5,<6")

for name in torch2-tf5; do
  dir="$VENVS/$name"
  wanted="$(printf '%s\n' "${COMMON[@]}" "${TRANSFORMERS[$name]}")"
  if [ -x "$dir/bin/python" ] && [ -f "$dir/.requirements" ] && [ "$(cat "$dir/.requirements")" = "$wanted" ]; then
    echo "python env $name: kept ($("$dir/bin/python" -c 'import torch, transformers, lightning; print("torch", torch.__version__, "transformers", transformers.__version__, "lightning", lightning.__version__)'))"
    continue
  fi
  rm -rf "$dir"
  echo "python env $name: creating with $PYTHON ($("$PYTHON" --version 2>&1))"
  started=$(date +%s)
  "$PYTHON" -m venv "$dir"
  # pip warns once per package about a configured index folder without it: noise, not news
  "$dir/bin/pip" install -q "${COMMON[@]}" "${TRANSFORMERS[$name]}" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  if ! "$dir/bin/pip" install -q kafka-python >/dev/null 2>&1; then
    debian_kafka=/usr/lib/python3/dist-packages/kafka
    if [ ! -d "$debian_kafka" ]; then
      echo "no kafka-python on the index and no Debian python3-kafka at $debian_kafka (apt-get install python3-kafka)" >&2
      exit 1
    fi
    # only the kafka package, not the rest of Debian's dist-packages (its torch 1.13 would shadow torch 2.x)
    mkdir -p "$dir/debian-kafka"
    ln -sfn "$debian_kafka" "$dir/debian-kafka/kafka"
    site="$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$(cd "$dir/debian-kafka" && pwd)" > "$site/debian-kafka.pth"
  fi
  # editable: the environment always runs this checkout's client (tests also put it first on PYTHONPATH)
  "$dir/bin/pip" install -q --no-deps -e ./
  printf '%s' "$wanted" > "$dir/.requirements"
  echo "python env $name: $("$dir/bin/python" -c 'import torch, transformers, lightning, accelerate, kafka; print("torch", torch.__version__, "transformers", transformers.__version__, "lightning", lightning.__version__, "accelerate", accelerate.__version__, "kafka-python", kafka.__version__)') in $(( $(date +%s) - started )) s"
done
