#!/usr/bin/env python3
"""A small bpf(2) service for the replay oracle: reads JSON requests, one per line, on stdin and
answers each with one JSON line on stdout. Run it inside the network namespace whose interfaces the
programs redirect to (`ip netns exec NS python3 bpf-service.py`).

Requests:
  {"op": "get", "path": P}                              -> {"fd": N}           (BPF_OBJ_GET of a pinned object)
  {"op": "update", "map": P, "key": HEX, "value": HEX,  -> {"ok": true} | {"errno": -E}
   "fds": [[OFFSET, PROG_PATH], ...]}                   (a program's fd written into the value at OFFSET, as u32)
  {"op": "run", "prog": P, "data": HEX, "ctx": HEX|null, "flags": N, "repeat": N,
   "data_size_out": N, "ctx_size_out": N}                -> {"errno": 0, "retval": N, "duration": NS, "data_out": HEX, "ctx_out": HEX} | {"errno": -E}
"""
import ctypes
import json
import struct
import sys

SYS_BPF = 321  # x86-64
BPF_MAP_UPDATE_ELEM = 2
BPF_OBJ_GET = 7
BPF_PROG_TEST_RUN = 10

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
fds = {}


def bpf(cmd, attr):
    ret = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    return ret, ctypes.get_errno()


def obj_get(path):
    if path in fds:
        return fds[path]
    name = ctypes.create_string_buffer(path.encode())
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<QII', attr, 0, ctypes.addressof(name), 0, 0)
    fd, err = bpf(BPF_OBJ_GET, attr)
    if fd < 0:
        raise OSError(err, f'BPF_OBJ_GET {path}')
    fds[path] = fd
    return fd


def update(req):
    value = bytearray(bytes.fromhex(req['value']))
    for offset, prog in req.get('fds', []):
        struct.pack_into('<I', value, offset, obj_get(prog))
    key = ctypes.create_string_buffer(bytes.fromhex(req['key']), max(1, len(req['key']) // 2))
    val = ctypes.create_string_buffer(bytes(value), max(1, len(value)))
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<IIQQQ', attr, 0, obj_get(req['map']), 0, ctypes.addressof(key), ctypes.addressof(val), 0)
    ret, err = bpf(BPF_MAP_UPDATE_ELEM, attr)
    return {'ok': True} if ret == 0 else {'errno': -err}


def run(req):
    data = bytes.fromhex(req['data'])
    ctx = bytes.fromhex(req['ctx']) if req.get('ctx') else b''
    data_size_out = req.get('data_size_out', 0)
    ctx_size_out = req.get('ctx_size_out', 0)
    din = ctypes.create_string_buffer(data, max(1, len(data)))
    dout = ctypes.create_string_buffer(max(1, data_size_out))
    cin = ctypes.create_string_buffer(ctx, max(1, len(ctx)))
    cout = ctypes.create_string_buffer(max(1, ctx_size_out))
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<IIIIQQII', attr, 0, obj_get(req['prog']), 0, len(data), data_size_out, ctypes.addressof(din),
                     ctypes.addressof(dout) if data_size_out else 0, req.get('repeat', 1), 0)
    struct.pack_into('<IIQQIII', attr, 40, len(ctx), ctx_size_out, ctypes.addressof(cin) if ctx else 0,
                     ctypes.addressof(cout) if ctx_size_out else 0, req.get('flags', 0), 0, 0)
    ret, err = bpf(BPF_PROG_TEST_RUN, attr)
    if ret < 0:
        return {'errno': -err}
    retval, = struct.unpack_from('<I', attr, 4)
    size_out, = struct.unpack_from('<I', attr, 12)
    duration, = struct.unpack_from('<I', attr, 36)
    ctx_out_size, = struct.unpack_from('<I', attr, 44)
    return {'errno': 0, 'retval': retval, 'duration': duration, 'data_out': dout.raw[:min(size_out, data_size_out)].hex(),
            'ctx_out': cout.raw[:min(ctx_out_size, ctx_size_out)].hex()}


def serve(ops):
    """Answers each JSON request line on stdin with ops[request['op']](request), one JSON line each."""
    for line in sys.stdin:
        req = json.loads(line)
        try:
            answer = ops[req['op']](req) if req['op'] in ops else {'failure': f"unknown op {req['op']}"}
        except OSError as e:
            answer = {'failure': f'{e.strerror or e} (errno {e.errno})'}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


def main():
    serve({'get': lambda req: {'fd': obj_get(req['path'])}, 'update': update, 'run': run})


if __name__ == '__main__':
    main()
