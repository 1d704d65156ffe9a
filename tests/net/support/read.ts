// Reading a capture in tests: every record as a plain object (data copied), through chunks of a
// given size, so that cases can compare whole results and chunkings against each other.
import { CaptureReader, type CaptureReadOptions, type CaptureRecord } from '../../../net/capture/index.js';

/** A record as plain data. */
export interface PlainRecord {
  number: number;
  offset: number;
  data: number[];
  originalLength: number;
  seconds: number;
  nanoseconds: number;
  interfaceId: number;
  section: number;
  name: string | undefined;
  linkType: number;
  comments: string[];
}

/** A record's fields as plain data. */
export function plain(r: CaptureRecord): PlainRecord {
  return {
    number: r.number,
    offset: r.offset,
    data: [...r.data],
    originalLength: r.originalLength,
    seconds: r.seconds,
    nanoseconds: r.nanoseconds,
    interfaceId: r.interfaceId,
    section: r.interface.section,
    name: r.interface.name,
    linkType: r.interface.linkType,
    comments: [...r.comments],
  };
}

/** The records of `bytes` pushed in chunks of `chunk` bytes, and the error that ended reading, if any. */
export function readChunked(bytes: Uint8Array, chunk = bytes.length || 1, options: CaptureReadOptions = {}): { records: PlainRecord[]; error: unknown } {
  const reader = new CaptureReader({ name: 'test.cap', ...options });
  const records: PlainRecord[] = [];
  try {
    for (let at = 0; at < bytes.length; at += chunk) {
      // A copy per chunk, overwritten after reading it: records must not depend on it afterwards.
      const piece = bytes.slice(at, at + chunk);
      reader.push(piece);
      for (let r = reader.next(); r !== undefined; r = reader.next()) records.push(plain(r));
      piece.fill(0xee);
    }
    reader.end();
    return { records, error: undefined };
  } catch (error) {
    return { records, error };
  }
}
