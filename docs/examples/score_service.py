"""A web service scoring one referral (or a list) per POST /score: the standard library only.

Run: python docs/examples/score_service.py [PORT] [SCORER]  (PORT 0: any free port).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import iomscore

SCORER = iomscore.get_scorer(sys.argv[2] if len(sys.argv) > 2 else "iom-priority")  # loaded once


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path != "/score":
            return self.reply(404, {"error": "POST a referral to /score"})
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self.reply(200, iomscore.score_json(body, scorer=SCORER))
        except iomscore.ReferralError as exc:  # every problem, with its field path
            self.reply(422, {"errors": [{"field": f, "message": m} for f, m in exc.problems]})
        except iomscore.ScoringError as exc:  # valid, but this scorer cannot score it
            self.reply(422, {"errors": [{"field": "", "message": str(exc)}]})

    def reply(self, status: int, body: object) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000), Handler)
    print(f"listening on http://127.0.0.1:{server.server_port}/score", flush=True)
    server.serve_forever()
