#!/usr/bin/env python3
"""The kernel side of the socket-storage oracle (sk-storage.mjs): reads JSON requests, one per line,
on stdin and answers each with one JSON line on stdout. It holds real sockets (so that
bpf_sk_lookup_* in a test run finds them, and user-space map operations have socket fds) and makes
socket storage maps with hand-written BTF (libbpf cannot make the invalid ones).

Requests:
  {"op": "sockets"}                                  -> {"tcp_listener": P1, "tcp_listener2": P2, "tcp_client": C,
                                                         "udp_bound": P3, "udp_any": P4, "udp_spare": P5}
       (on 127.0.0.1: a TCP listener on P1; a listener on P2 with a connection from the client port C;
        UDP sockets bound to 127.0.0.1:P3, 0.0.0.0:P4 and 127.0.0.1:P5; all kept open)
  {"op": "udp_socket", "name": NAME}                 -> {"port": P}   (one more UDP socket on 127.0.0.1)
  {"op": "map_create", "flags": N, "max_entries": N, "key_size": N, "value_size": N,
   "key_btf": "int"|"int16"|"none", "value_btf": true|false} -> {"fd": N} | {"errno": -E}
  {"op": "map_op", "map": FD, "cmd": "lookup"|"update"|"delete"|"next"|"lookup_and_delete",
   "socket": NAME|null, "fd": N|null, "value": HEX|null, "flags": N} -> {"errno": 0, "value": HEX} | {"errno": -E}
  {"op": "run", ...}                                  -> bpf-service.py's run (BPF_PROG_TEST_RUN, with its duration)
"""
import ctypes
import importlib.util
import os
import socket
import struct

spec = importlib.util.spec_from_file_location('bpf_service', os.path.join(os.path.dirname(__file__), 'bpf-service.py'))
service = importlib.util.module_from_spec(spec)
spec.loader.exec_module(service)

BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_MAP_GET_NEXT_KEY = 4
BPF_BTF_LOAD = 18
BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21
BPF_MAP_TYPE_SK_STORAGE = 24
BTF_KIND_INT = 1
BTF_KIND_ARRAY = 3

sockets = {}


def open_sockets():
    """The sockets the lookups look for, kept open until the service ends."""
    def tcp_listener():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.0.1', 0))
        s.listen(8)
        return s
    sockets['tcp_listener'] = tcp_listener()
    sockets['tcp_listener2'] = tcp_listener()
    client = socket.create_connection(sockets['tcp_listener2'].getsockname())
    server, _ = sockets['tcp_listener2'].accept()
    sockets['tcp_client'], sockets['tcp_server'] = client, server
    for name, host in (('udp_bound', '127.0.0.1'), ('udp_any', '0.0.0.0'), ('udp_spare', '127.0.0.1')):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((host, 0))
        sockets[name] = u
    return {name: s.getsockname()[1] for name, s in sockets.items() if name != 'tcp_server'}


def udp_socket(req):
    """One more UDP socket on 127.0.0.1, by name: a fresh socket whose option memory nothing has charged."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    sockets[req['name']] = u
    return {'port': u.getsockname()[1]}


def btf_blob(key_btf, value_size):
    """BTF with [1] int (4 bytes, 32 bits), [2] a 16-bit int in 4 bytes, [3] u8, [4] u8[value_size]."""
    strings = b'\0int\0short4\0u8\0'
    types = b''
    types += struct.pack('<III', 1, BTF_KIND_INT << 24, 4) + struct.pack('<I', (1 << 24) | 32)
    types += struct.pack('<III', 5, BTF_KIND_INT << 24, 4) + struct.pack('<I', (1 << 24) | 16)
    types += struct.pack('<III', 12, BTF_KIND_INT << 24, 1) + struct.pack('<I', 8)
    types += struct.pack('<III', 0, BTF_KIND_ARRAY << 24, 0) + struct.pack('<III', 3, 1, value_size)
    header = struct.pack('<HBBIIIII', 0xeB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def map_create(req):
    blob = btf_blob(req['key_btf'], req['value_size'])
    buf = ctypes.create_string_buffer(blob, len(blob))
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<QQII', attr, 0, ctypes.addressof(buf), 0, len(blob), 0)
    btf_fd, err = service.bpf(BPF_BTF_LOAD, attr)
    if btf_fd < 0:
        return {'failure': f'BTF_LOAD: errno {err}'}
    key_id = {'int': 1, 'int16': 2, 'none': 0}[req['key_btf']]
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<IIIIIII', attr, 0, BPF_MAP_TYPE_SK_STORAGE, req['key_size'], req['value_size'], req['max_entries'], req['flags'], 0, 0)
    struct.pack_into('<16s', attr, 28, b'oracle')
    struct.pack_into('<IIII', attr, 44, 0, btf_fd, key_id, 4 if req['value_btf'] else 0)
    fd, err = service.bpf(BPF_MAP_CREATE, attr)
    os.close(btf_fd)
    return {'fd': fd} if fd >= 0 else {'errno': -err}


def map_op(req):
    fd = req['fd'] if req.get('socket') is None else sockets[req['socket']].fileno()
    key = ctypes.create_string_buffer(struct.pack('<i', fd), 4)
    value_bytes = bytes.fromhex(req['value']) if req.get('value') else b''
    size = req.get('value_size', len(value_bytes))
    value = ctypes.create_string_buffer(value_bytes if value_bytes else b'\0' * max(1, size), max(1, size, len(value_bytes)))
    cmd = {'lookup': BPF_MAP_LOOKUP_ELEM, 'update': BPF_MAP_UPDATE_ELEM, 'delete': BPF_MAP_DELETE_ELEM,
           'next': BPF_MAP_GET_NEXT_KEY, 'lookup_and_delete': BPF_MAP_LOOKUP_AND_DELETE_ELEM}[req['cmd']]
    attr = (ctypes.c_uint8 * 144)()
    # BPF_MAP_DELETE_ELEM ends at the key: a value or flags after it are -EINVAL (CHECK_ATTR).
    value_ptr = 0 if req['cmd'] == 'delete' else ctypes.addressof(value)
    flags = 0 if req['cmd'] in ('delete', 'next') else req.get('flags', 0)
    struct.pack_into('<IIQQQ', attr, 0, req['map'], 0, ctypes.addressof(key), value_ptr, flags)
    ret, err = service.bpf(cmd, attr)
    if ret < 0:
        return {'errno': -err}
    return {'errno': 0, 'value': value.raw[:size].hex() if req['cmd'] in ('lookup', 'lookup_and_delete') else None}


def main():
    service.serve({'sockets': lambda r: open_sockets(), 'udp_socket': udp_socket, 'map_create': map_create, 'map_op': map_op, 'run': service.run})


if __name__ == '__main__':
    main()
