# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An HTTP server on 127.0.0.1 that serves one file badly: it promises the whole file
(Content-Length), sends half of it, then resets the connection (SO_LINGER 0, so the
client sees a reset rather than a clean end of stream). Every other path is served
whole. Writes its port to a file; stops by itself after a time limit.

    drop_server.py FOLDER PORT_FILE SECONDS
    GET /drop/<file>   half of <file>, then a reset
    GET /<file>        the whole file
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import struct
import sys
import threading


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if not self.path.startswith('/drop/'):
            super().do_GET()
            return
        path = self.translate_path(self.path[len('/drop'):])
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(size))
        self.end_headers()
        with open(path, 'rb') as f:
            self.wfile.write(f.read(size // 2))
        self.wfile.flush()
        # l_onoff=1, l_linger=0: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, *args):
        pass


def main():
    folder, port_file, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=folder))
    with open(port_file + '.tmp', 'w') as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + '.tmp', port_file)
    threading.Timer(limit, server.shutdown).start()
    server.serve_forever()


if __name__ == '__main__':
    main()
