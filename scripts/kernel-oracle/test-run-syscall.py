#!/usr/bin/env python3
"""BPF_PROG_TEST_RUN through the bpf(2) syscall, for attributes bpftool cannot pass (test-run flags).

Used by bpftool-test-run.mjs when a case sets flags. Opens a pinned program (BPF_OBJ_GET), runs it
once with the given files and prints one JSON line: {"errno": 0, "retval": N, "dataSizeOut": N,
"ctxSizeOut": N} after writing data_out and ctx_out, or {"errno": -E} when the kernel refused.

    test-run-syscall.py PIN DATA_IN DATA_OUT CTX_IN|- CTX_OUT|- FLAGS REPEAT DATA_SIZE_OUT CTX_SIZE_OUT
"""
import ctypes
import json
import struct
import sys

SYS_BPF = 321  # x86-64
BPF_OBJ_GET = 7
BPF_PROG_TEST_RUN = 10

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    ret = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    return ret, ctypes.get_errno()


def main(argv):
    pin, data_in, data_out, ctx_in, ctx_out, flags, repeat, data_size_out, ctx_size_out = argv
    path = ctypes.create_string_buffer(pin.encode())
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<QII', attr, 0, ctypes.addressof(path), 0, 0)
    fd, err = bpf(BPF_OBJ_GET, attr)
    if fd < 0:
        print(json.dumps({'failure': f'BPF_OBJ_GET: errno {err}'}))
        return
    din = open(data_in, 'rb').read()
    din_buf = ctypes.create_string_buffer(din, len(din) or 1)
    dout_buf = ctypes.create_string_buffer(int(data_size_out) or 1)
    cin = open(ctx_in, 'rb').read() if ctx_in != '-' else b''
    cin_buf = ctypes.create_string_buffer(cin, len(cin) or 1)
    cout_buf = ctypes.create_string_buffer(int(ctx_size_out) or 1)
    attr = (ctypes.c_uint8 * 144)()
    struct.pack_into('<IIIIQQII', attr, 0, fd, 0, len(din), int(data_size_out), ctypes.addressof(din_buf),
                     ctypes.addressof(dout_buf), int(repeat), 0)
    struct.pack_into('<IIQQIII', attr, 40, len(cin), int(ctx_size_out) if ctx_out != '-' else 0,
                     ctypes.addressof(cin_buf) if cin else 0, ctypes.addressof(cout_buf) if ctx_out != '-' else 0,
                     int(flags), 0, 0)
    ret, err = bpf(BPF_PROG_TEST_RUN, attr)
    if ret < 0:
        print(json.dumps({'errno': -err}))
        return
    retval, = struct.unpack_from('<I', attr, 4)
    size_out, = struct.unpack_from('<I', attr, 12)
    ctx_out_size, = struct.unpack_from('<I', attr, 44)
    open(data_out, 'wb').write(dout_buf.raw[:min(size_out, int(data_size_out))])
    if ctx_out != '-':
        open(ctx_out, 'wb').write(cout_buf.raw[:min(ctx_out_size, int(ctx_size_out))])
    print(json.dumps({'errno': 0, 'retval': retval, 'dataSizeOut': size_out, 'ctxSizeOut': ctx_out_size}))


if __name__ == '__main__':
    main(sys.argv[1:])
