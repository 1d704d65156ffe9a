// What both capture writers offer, so the replay can write either format through one interface.
import { CaptureUsageError } from './errors.js';
import type { OutputPacket } from './record.js';
import { ChunkedOutput, type CaptureSink } from './sink.js';

/** A streaming capture writer: packets go into a buffer that is handed to the sink in full chunks. */
export interface CaptureWriter {
  /** 'pcap' or 'pcapng'. */
  readonly format: 'pcap' | 'pcapng';
  /** Packets written so far. */
  readonly packets: number;
  /** Appends one packet (cut to the snapshot length). */
  write(packet: OutputPacket): void;
  /** Hands everything buffered to the sink. */
  flush(): void;
  /** Flushes and completes the capture; the writer takes no more packets. */
  close(): void;
  /** Gives the capture up: the sink discards it (a file sink removes its file). */
  abort(): void;
}

/** Options both writers take. */
export interface CaptureWriterOptions {
  /** Byte order of the file (readers handle both); default true, as on the machines that run this. */
  readonly littleEndian?: boolean;
  /** Bytes per chunk handed to the sink; default 1 MiB. */
  readonly chunkSize?: number;
}

/** Throws unless a packet's timestamp fits the formats: whole seconds in 32 bits, nanoseconds below 1e9. */
export function checkTimestamp(packet: OutputPacket): void {
  const { seconds, nanoseconds } = packet;
  // x >>> 0 === x holds exactly for the integers in [0, 2^32): one cheap test per field.
  if ((seconds >>> 0) !== seconds || (nanoseconds >>> 0) !== nanoseconds || nanoseconds >= 1e9) {
    throw new CaptureUsageError(`timestamp ${seconds} s + ${nanoseconds} ns is not whole seconds in [0, 2^32) and nanoseconds in [0, 1e9)`);
  }
}

/** What both writers share: the output buffer, the packet count, and flush, close and abort. */
export abstract class BufferedCaptureWriter implements CaptureWriter {
  abstract readonly format: 'pcap' | 'pcapng';
  packets = 0;
  protected readonly out: ChunkedOutput;
  protected readonly le: boolean;

  constructor(sink: CaptureSink, options: CaptureWriterOptions) {
    this.out = new ChunkedOutput(sink, options.chunkSize);
    this.le = options.littleEndian ?? true;
  }

  abstract write(packet: OutputPacket): void;

  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }

  abort(): void {
    this.out.abort();
  }
}
