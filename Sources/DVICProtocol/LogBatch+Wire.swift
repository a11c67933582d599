extension LogBatch: WireMessage {
    /// Wire layout (Spec/protocol.md, 5.2): `streamID: u32`, `firstSeq: varint`,
    /// `count`, then per record `timeDelta: int` (from the previous record's
    /// timestamp; the first from 0), `severity: u8`, `text: string`.
    ///
    /// Records of one batch are usually milliseconds apart, so the delta takes one or
    /// two bytes where an absolute time would take six.
    public init(from reader: inout WireReader) throws(ProtocolError) {
        let streamID = try reader.readUInt32()
        let firstSeq = try reader.readVarint()
        let count = try reader.readCount()
        guard count == 0 || firstSeq <= UInt64.max - UInt64(count - 1) else {
            throw .invalidValue("sequence numbers of the batch overflow")
        }
        var records: [LogRecord] = []
        records.reserveCapacity(count)
        var timestamp: Int64 = 0
        for _ in 0..<count {
            timestamp = timestamp &+ (try reader.readSigned())
            let severity = try reader.readEnum(Severity.self)
            let text = try reader.readString()
            records.append(LogRecord(timestamp: timestamp, severity: severity, text: text))
        }
        self.init(streamID: streamID, firstSeq: firstSeq, records: records)
    }

    public func write(to writer: inout WireWriter) throws(ProtocolError) {
        writer.writeVarint(streamID)
        writer.writeVarint(firstSeq)
        try writer.writeCount(records.count)
        var previous: Int64 = 0
        for record in records {
            writer.writeSigned(record.timestamp &- previous)
            previous = record.timestamp
            writer.writeEnum(record.severity)
            writer.writeString(record.text)
        }
    }
}
