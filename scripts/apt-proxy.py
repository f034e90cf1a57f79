#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test fleet's apt proxy: Debian's packages for test hosts that have no route out.

Test only, not part of podnet. Two modes over one cache directory, laid out by URL
(CACHE/<host>/<path>):

  record  on the machine, while the test-host image is built: forwards each GET to the
          Debian mirror the request names and keeps every answer it got (200 only).
  serve   inside the lab, on the router every test host reaches: answers from the cache
          only and never opens a connection itself (404 for anything not recorded), the
          way an air-gapped fleet's apt-cacher-ng answers from its store.

Hosts use it as an ordinary HTTP proxy for apt (podnet_apt_proxy, docs/testing.md): their
sources, InRelease signatures and package hashes stay Debian's own, so what installs on a
test host is exactly what would install on a real one.

  apt-proxy.py record --cache DIR --port 3142 [--bind 127.0.0.1]
  apt-proxy.py serve  --cache DIR --port 3142 [--bind ::]
"""

import argparse
import os
import shutil
import socket
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 16


def cache_path(cache, url):
    """Where URL's answer lives in CACHE, or None for a URL that is not plain http or
    tries to leave the cache (.., empty parts)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.query:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not segments or any(s in (".", "..") for s in segments):
        return None
    return os.path.join(cache, parts.hostname, *segments)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: apt pipelines its requests on one connection
    server_version = "podnet-apt-proxy"

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        self._answer(send_body=True)

    def do_HEAD(self):  # noqa: N802
        self._answer(send_body=False)

    def _answer(self, send_body):
        path = cache_path(self.server.cache, self.path)
        if path is None:
            return self._empty(400)
        if not os.path.isfile(path) and self.server.record:
            self._fetch(path)
        if not os.path.isfile(path):
            return self._empty(404)
        self.send_response(200)
        self.send_header("Content-Length", str(os.path.getsize(path)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if send_body:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, self.wfile, CHUNK)

    def _fetch(self, path):
        """Record mode: get the URL from its mirror into PATH (atomically), or leave PATH absent."""
        try:
            with urllib.request.urlopen(self.path, timeout=60) as answer:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=os.path.dirname(path), delete=False) as out:
                    shutil.copyfileobj(answer, out, CHUNK)
                os.replace(out.name, path)
        except (urllib.error.URLError, OSError) as error:
            self.log_message("not recorded: %s (%s)", self.path, error)

    def _empty(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


class DualStackServer(ThreadingHTTPServer):
    """The HTTP server on an IPv6 socket that also accepts IPv4 clients (IPV6_V6ONLY off)."""

    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["record", "serve"])
    parser.add_argument("--cache", required=True, help="the cache directory")
    parser.add_argument("--port", type=int, default=3142)
    parser.add_argument("--bind", default=None,
                        help="address to listen on (record: 127.0.0.1, serve: all, both families)")
    args = parser.parse_args(argv)
    # serve: all addresses of both families (an IPv6 socket that takes IPv4 too), so hosts
    # with only an IPv6 underlay reach it as well.
    bind = args.bind or ("127.0.0.1" if args.mode == "record" else "::")
    os.makedirs(args.cache, exist_ok=True)
    server_class = DualStackServer if ":" in bind else ThreadingHTTPServer
    server = server_class((bind, args.port), Handler)
    server.daemon_threads = True
    server.cache = os.path.abspath(args.cache)
    server.record = args.mode == "record"
    print("apt-proxy: %s %s on %s:%d" % (args.mode, server.cache, bind, server.server_address[1]),
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
