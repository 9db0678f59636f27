"""The HTTP side of the local test TSA (deploy/local/test-tsa.sh): RFC 3161 over HTTP.

POST a TimeStampReq (content type application/timestamp-query) to any path; the reply is
`openssl ts -reply` for it (application/timestamp-reply). One request at a time, since OpenSSL
increments the serial file. Only the standard library and the openssl command.
"""

import argparse
import http.server
import os
import subprocess
import sys
import tempfile
import threading

MAX_QUERY = 64 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, help="the openssl ts configuration")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", help="the URL is written here once listening")
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_QUERY:
                self.send_error(400, "send a TimeStampReq of at most 64 KiB")
                return
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/timestamp-query":
                self.send_error(415, "content type must be application/timestamp-query")
                return
            query = self.rfile.read(length)
            with lock, tempfile.TemporaryDirectory() as tmp:
                qfile = os.path.join(tmp, "q.tsq")
                rfile = os.path.join(tmp, "r.tsr")
                with open(qfile, "wb") as f:
                    f.write(query)
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", args.config, "-queryfile", qfile, "-out", rfile],
                    capture_output=True,
                    check=False,
                )
                if done.returncode != 0 or not os.path.exists(rfile):
                    # OpenSSL writes a rejection reply for requests it refuses; no reply at all
                    # means the query was not even DER.
                    self.send_error(400, "not a TimeStampReq: " + done.stderr.decode(errors="replace")[:200])
                    return
                with open(rfile, "rb") as f:
                    reply = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, fmt: str, *a: object) -> None:
            sys.stderr.write("test-tsa: " + (fmt % a) + "\n")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, args.ready_file)
    print(f"test-tsa: listening on {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
