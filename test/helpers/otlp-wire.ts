// Log records as a collector receives them: put on the wire by the gateway's own OTLP encoder and read
// back with the official protos, so tests assert what is exported rather than a copy of the encoding rules.
import { encodeLogRecord, envelope, type LogRecordData } from '../../src/telemetry/export/encode.ts';
import { ProtoWriter } from '../../src/telemetry/export/proto-writer.ts';
import { decodeLogs, type ReceivedLog } from './otlp-receiver.ts';

const wrap = envelope({ 'service.name': 'vigil-test' }, { name: 'vigil', version: '0.0.0-test' });

/** The records as one export request, decoded. */
export function logsOnTheWire(...records: LogRecordData[]): ReceivedLog[] {
  const w = new ProtoWriter();
  for (const record of records) encodeLogRecord(w, record, Date.now());
  return decodeLogs(wrap(w.view()));
}
