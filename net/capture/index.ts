// Public surface of capture I/O that runs anywhere: pcap and pcapng readers (a push parser over
// chunks, an in-memory iterator) and writers (to any sink). Files (net/capture/file.ts) are the Node
// entry's.
export { CaptureError, CaptureFileError, CaptureUsageError, type CaptureLocation } from './errors.js';
export { CaptureRecord, LinkType, linkTypeName, timestampNs, type CaptureInterface, type OutputPacket } from './record.js';
export { MAX_CAPTURED_LENGTH, type CaptureReadOptions } from './decoder.js';
export { CaptureReader, captureFormatOf, captureRecords } from './reader.js';
export { MemorySink, type CaptureSink } from './sink.js';
export type { CaptureWriter, CaptureWriterOptions } from './writer.js';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
export { PcapngWriter, type InterfaceSpec, type PcapngWriterOptions } from './pcapng-writer.js';
