import DVICProtocol

/// The on-disk form of spool entries and stream-state entries.
///
/// Every entry is framed as `0xA5`, a little-endian u32 payload length and a little-endian u32
/// CRC-32 of the payload, then the payload. A reader stops at the first frame that is cut short
/// or fails its checksum: that is where a crash interrupted a write, and everything before it is
/// intact. Payloads use LEB128 varints and length-prefixed UTF-8 strings.
enum SpoolCodec {
    static let magic: UInt8 = 0xA5
    static let frameHeaderLength = 9
    /// No entry is larger than this (a batch of records is at most a few MiB); a larger length
    /// field means corruption, not an entry to allocate for.
    static let maxPayloadLength = 64 << 20

    enum Kind: UInt8 {
        /// Records of one stream (segment files).
        case records = 1
        /// A stream's description.
        case streamInfo = 2
        /// The server stored the stream up to `seq`.
        case acknowledged = 3
        /// Where the stream's source resumes once everything up to `seq` is stored.
        case checkpoint = 4
        /// Records up to `seq` were dropped by the size cap.
        case dropped = 5
        /// The stream is closed: only its last sequence number is kept.
        case retired = 6
    }

    /// One decoded records entry.
    struct RecordsEntry {
        var key: String
        var firstSeq: UInt64
        var records: [DVICProtocol.LogRecord]
        var checkpoint: SourceCheckpoint?
        var lastSeq: UInt64 { firstSeq + UInt64(records.count) - 1 }
    }

    /// One decoded stream-state entry.
    enum StateEntry {
        case info(LogStreamInfo)
        case acknowledged(key: String, seq: UInt64)
        case checkpoint(key: String, SourceCheckpoint)
        case dropped(key: String, through: UInt64)
        case retired(key: String, lastSeq: UInt64)
    }

    // MARK: Framing

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [magic]
        bytes.reserveCapacity(payload.count + frameHeaderLength)
        appendLittleEndian(UInt32(payload.count), to: &bytes)
        appendLittleEndian(CRC32.checksum(payload), to: &bytes)
        bytes += payload
        return bytes
    }

    /// The payload length a frame header announces, or nil when the header is not one.
    static func payloadLength(header: ArraySlice<UInt8>) -> Int? {
        guard header.count >= frameHeaderLength, header.first == magic else { return nil }
        let length = Int(readLittleEndian(header.dropFirst()))
        return length <= maxPayloadLength ? length : nil
    }

    static func checksum(header: ArraySlice<UInt8>) -> UInt32 {
        readLittleEndian(header.dropFirst(5))
    }

    /// Splits a whole file into payloads; `validLength` is where the last good frame ends.
    static func payloads(in bytes: [UInt8]) -> (payloads: [ArraySlice<UInt8>], validLength: Int) {
        var payloads: [ArraySlice<UInt8>] = []
        var offset = 0
        while bytes.count - offset >= frameHeaderLength {
            let header = bytes[offset..<(offset + frameHeaderLength)]
            guard let length = payloadLength(header: header), bytes.count - offset - frameHeaderLength >= length else { break }
            let payload = bytes[(offset + frameHeaderLength)..<(offset + frameHeaderLength + length)]
            guard CRC32.checksum(payload) == checksum(header: header) else { break }
            payloads.append(payload)
            offset += frameHeaderLength + length
        }
        return (payloads, offset)
    }

    // MARK: Entries

    static func encodeRecords(key: String, firstSeq: UInt64, records: ArraySlice<DVICProtocol.LogRecord>, checkpoint: SourceCheckpoint?) -> [UInt8] {
        var payload: [UInt8] = [Kind.records.rawValue]
        appendString(key, to: &payload)
        appendVarint(firstSeq, to: &payload)
        appendVarint(UInt64(records.count), to: &payload)
        if let checkpoint {
            payload.append(1)
            appendVarint(checkpoint.seq, to: &payload)
            appendString(checkpoint.position, to: &payload)
        } else {
            payload.append(0)
        }
        for record in records {
            appendVarint(UInt64(bitPattern: (record.timestamp << 1) ^ (record.timestamp >> 63)), to: &payload)
            payload.append(record.severity.rawValue)
            appendString(record.text, to: &payload)
        }
        return frame(payload)
    }

    static func decodeRecords(_ payload: ArraySlice<UInt8>) -> RecordsEntry? {
        var reader = Reader(bytes: payload)
        guard reader.byte() == Kind.records.rawValue, let key = reader.string(), let firstSeq = reader.varint(),
            let count = reader.varint(), count > 0, count <= UInt64(payload.count), let hasCheckpoint = reader.byte()
        else { return nil }
        var checkpoint: SourceCheckpoint?
        if hasCheckpoint == 1 {
            guard let seq = reader.varint(), let position = reader.string() else { return nil }
            checkpoint = SourceCheckpoint(seq: seq, position: position)
        }
        var records: [DVICProtocol.LogRecord] = []
        records.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let zigzag = reader.varint(), let severityByte = reader.byte(), let severity = Severity(rawValue: severityByte),
                let text = reader.string()
            else { return nil }
            let timestamp = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            records.append(DVICProtocol.LogRecord(timestamp: timestamp, severity: severity, text: text))
        }
        return RecordsEntry(key: key, firstSeq: firstSeq, records: records, checkpoint: checkpoint)
    }

    /// Only the header fields of a records entry, without decoding its records (the startup scan).
    static func decodeRecordsSummary(_ payload: ArraySlice<UInt8>) -> (key: String, firstSeq: UInt64, count: UInt64, checkpoint: SourceCheckpoint?)? {
        var reader = Reader(bytes: payload)
        guard reader.byte() == Kind.records.rawValue, let key = reader.string(), let firstSeq = reader.varint(),
            let count = reader.varint(), count > 0, let hasCheckpoint = reader.byte()
        else { return nil }
        var checkpoint: SourceCheckpoint?
        if hasCheckpoint == 1 {
            guard let seq = reader.varint(), let position = reader.string() else { return nil }
            checkpoint = SourceCheckpoint(seq: seq, position: position)
        }
        return (key, firstSeq, count, checkpoint)
    }

    static func encodeState(_ entry: StateEntry) -> [UInt8] {
        var payload: [UInt8] = []
        switch entry {
        case .info(let info):
            payload.append(Kind.streamInfo.rawValue)
            appendString(info.key, to: &payload)
            payload.append(info.source.rawValue)
            for text in [info.name, info.path, info.container] { appendString(text, to: &payload) }
            appendVarint(UInt64(info.pid), to: &payload)
            appendString(info.exe, to: &payload)
            appendVarint(UInt64(info.argv.count), to: &payload)
            for argument in info.argv { appendString(argument, to: &payload) }
            appendString(info.user, to: &payload)
            appendVarint(UInt64(bitPattern: info.started), to: &payload)
        case .acknowledged(let key, let seq):
            payload.append(Kind.acknowledged.rawValue)
            appendString(key, to: &payload)
            appendVarint(seq, to: &payload)
        case .checkpoint(let key, let checkpoint):
            payload.append(Kind.checkpoint.rawValue)
            appendString(key, to: &payload)
            appendVarint(checkpoint.seq, to: &payload)
            appendString(checkpoint.position, to: &payload)
        case .dropped(let key, let through):
            payload.append(Kind.dropped.rawValue)
            appendString(key, to: &payload)
            appendVarint(through, to: &payload)
        case .retired(let key, let lastSeq):
            payload.append(Kind.retired.rawValue)
            appendString(key, to: &payload)
            appendVarint(lastSeq, to: &payload)
        }
        return frame(payload)
    }

    static func decodeState(_ payload: ArraySlice<UInt8>) -> StateEntry? {
        var reader = Reader(bytes: payload)
        guard let kindByte = reader.byte(), let kind = Kind(rawValue: kindByte), let key = reader.string() else { return nil }
        switch kind {
        case .streamInfo:
            guard let sourceByte = reader.byte(), let source = LogSource(rawValue: sourceByte), let name = reader.string(),
                let path = reader.string(), let container = reader.string(), let pid = reader.varint(),
                let exe = reader.string(), let argc = reader.varint(), argc <= UInt64(payload.count)
            else { return nil }
            var argv: [String] = []
            for _ in 0..<argc {
                guard let argument = reader.string() else { return nil }
                argv.append(argument)
            }
            guard let user = reader.string(), let started = reader.varint() else { return nil }
            return .info(
                LogStreamInfo(
                    key: key, source: source, name: name, path: path, container: container, pid: UInt32(truncatingIfNeeded: pid),
                    exe: exe, argv: argv, user: user, started: Int64(bitPattern: started)))
        case .acknowledged:
            return reader.varint().map { .acknowledged(key: key, seq: $0) }
        case .checkpoint:
            guard let seq = reader.varint(), let position = reader.string() else { return nil }
            return .checkpoint(key: key, SourceCheckpoint(seq: seq, position: position))
        case .dropped:
            return reader.varint().map { .dropped(key: key, through: $0) }
        case .retired:
            return reader.varint().map { .retired(key: key, lastSeq: $0) }
        case .records:
            return nil
        }
    }

    // MARK: Primitives

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            appendVarint(UInt64(utf8.count), to: &bytes)
            bytes.append(contentsOf: utf8)
        }
    }

    static func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    static func readLittleEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var value: UInt32 = 0
        for (index, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << UInt32(index * 8) }
        return value
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>

        mutating func byte() -> UInt8? {
            bytes.popFirst()
        }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                guard shift < 64 else { return nil }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }

        mutating func string() -> String? {
            guard let length = varint(), length <= UInt64(bytes.count) else { return nil }
            let end = bytes.startIndex + Int(length)
            let text = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
            bytes = bytes[end...]
            return text
        }
    }
}
