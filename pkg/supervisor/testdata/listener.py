"""An event listener written against Debian's supervisor.childutils, as real
listeners (superlance) are. Usage: listener.py OUTFILE MODE

Each event received is appended to OUTFILE as one JSON line
{"headers": {...}, "payload": "..."}. MODE decides the answer:
  ok        answer OK to everything
  failfirst answer FAIL to the first event, OK afterwards
  stuck     never answer the first event (stay BUSY forever)
  diefirst  exit without answering the first event of the first run
"""
import json
import os
import sys
import time

from supervisor import childutils


def main():
    out, mode = sys.argv[1], sys.argv[2]
    marker = out + ".died"
    first = True
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        with open(out, "a") as f:
            f.write(json.dumps({"headers": headers, "payload": payload}) + "\n")
        if mode == "stuck" and first:
            while True:
                time.sleep(3600)
        if mode == "diefirst" and first and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(0)
        if mode == "failfirst" and first:
            childutils.listener.fail(sys.stdout)
        else:
            childutils.listener.ok(sys.stdout)
        first = False


if __name__ == "__main__":
    main()
