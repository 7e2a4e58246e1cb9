"""HTTP servers on 127.0.0.1 for the `http` lifecycle check tests (http_checks.rs).

Three listeners in one process: plain HTTP, HTTPS with the test's server certificate,
and HTTPS that requires a client certificate signed by the test's CA. Prints
`PORTS <http> <https> <mtls>` once all listen, then serves until stdin closes.

Routes (any listener):
  /ok               200 "ok"
  /r/N              302 to /r/N-1 (alternately absolute and relative Location), /r/0 is /ok
  /loop             302 to /loop
  /auth             200 with "Authorization: Basic base64(USER:PASSWORD)", else 401
  /header           200 with "X-Ready: yes", else 400
  /body             200 "service: web\nstatus: ready\n" (text/plain)
  /see-other        303 to /get-only (whatever the method)
  /get-only         200 for GET, 405 otherwise
  /q?a=1&b=x+y      200 for exactly that query, else 400
"""

import base64
import http.server
import ssl
import sys
import threading

USER, PASSWORD = sys.argv[1], sys.argv[2]
CERT, KEY, CA = sys.argv[3], sys.argv[4], sys.argv[5]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route(self):
        path = self.path
        if path == "/ok":
            return self.reply(200, b"ok")
        if path.startswith("/r/"):
            n = int(path[3:])
            if n == 0:
                return self.reply(200, b"redirected ok")
            loc = "/r/%d" % (n - 1) if n % 2 else "%d" % (n - 1)
            return self.reply(302, headers=[("Location", loc)])
        if path == "/loop":
            return self.reply(302, headers=[("Location", "/loop")])
        if path == "/auth":
            want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
            if self.headers.get("Authorization") == want:
                return self.reply(200, b"welcome")
            return self.reply(401, b"who are you", [("WWW-Authenticate", 'Basic realm="t"')])
        if path == "/header":
            if self.headers.get("X-Ready") == "yes":
                return self.reply(200, b"header seen")
            return self.reply(400, b"no header")
        if path == "/body":
            return self.reply(
                200, b"service: web\nstatus: ready\n", [("Content-Type", "text/plain")]
            )
        if path == "/see-other":
            return self.reply(303, headers=[("Location", "/get-only")])
        if path == "/get-only":
            if self.command == "GET":
                return self.reply(200, b"got")
            return self.reply(405, b"GET only")
        if path.startswith("/q"):
            if path == "/q?a=1&b=x+y":
                return self.reply(200, b"query seen")
            return self.reply(400, b"wrong query")
        return self.reply(404, b"not found")

    do_GET = do_POST = do_PUT = do_HEAD = route

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Refused handshakes (no client certificate, an unknown CA) are expected.
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)


def listen(context):
    server = Server(("127.0.0.1", 0), Handler)
    if context is not None:
        # The handshake happens in the handler's thread, on its first read.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def tls(require_client):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT, KEY)
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(CA)
    return context


ports = [listen(None), listen(tls(False)), listen(tls(True))]
print("PORTS %d %d %d" % tuple(ports), flush=True)
sys.stdin.read()
