# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small HTTP server on 127.0.0.1 for import tests: serves a folder, writes its port to
a file, and stops by itself after a time limit. ``/broken/<file>`` sends the headers of
the whole file and then drops the connection half-way."""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/broken/'):
            path = self.translate_path(self.path[len('/broken'):])
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header('Content-Length', str(size))
            self.end_headers()
            with open(path, 'rb') as f:
                self.wfile.write(f.read(size // 2))
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def main():
    folder, port_file, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=folder))
    # Written whole (by rename): a reader that sees the file sees the whole port.
    with open(port_file + '.tmp', 'w') as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + '.tmp', port_file)
    threading.Timer(limit, server.shutdown).start()
    server.serve_forever()


if __name__ == '__main__':
    main()
