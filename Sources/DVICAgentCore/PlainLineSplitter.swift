/// Splits a plain text file (not a demo log) into lines, bounded like the demo log parser: a line
/// longer than `maxLineBytes` comes in pieces cut on UTF-8 boundaries, a line without its newline
/// waits, and a CR before the LF is dropped.
struct PlainLineSplitter: Sendable {
    struct Line: Sendable, Hashable {
        var text: String
        /// Where reading resumes once this line is stored: past its newline when it ends a line,
        /// else the line's start (its pieces come again, with the same numbers).
        var resumeOffset: Int64
        var endsLine: Bool
    }

    let maxLineBytes: Int
    private(set) var offset: Int64
    private var buffer: [UInt8] = []
    private var deliveredInLine: Int64 = 0

    init(offset: Int64 = 0, maxLineBytes: Int = 262_144) {
        self.offset = offset
        self.maxLineBytes = max(64, maxLineBytes)
    }

    var bufferedByteCount: Int { buffer.count }

    mutating func feed(_ bytes: some Collection<UInt8>) -> [Line] {
        buffer.append(contentsOf: bytes)
        var lines: [Line] = []
        var start = 0
        var index = 0
        while index < buffer.count {
            if buffer[index] == UInt8(ascii: "\n") {
                deliver(start..<index, rawEnd: index + 1, into: &lines)
                start = index + 1
            }
            index += 1
        }
        while buffer.count - start > maxLineBytes + 1 {
            let cut = cutPoint(from: start)
            lines.append(Line(text: String(decoding: buffer[start..<(start + cut)], as: UTF8.self), resumeOffset: offset, endsLine: false))
            deliveredInLine += Int64(cut)
            start += cut
        }
        buffer.removeSubrange(0..<start)
        return lines
    }

    /// Delivers a last line without newline (the file is finished).
    mutating func finish() -> [Line] {
        guard !buffer.isEmpty else { return [] }
        var lines: [Line] = []
        deliver(0..<buffer.count, rawEnd: buffer.count, into: &lines)
        buffer.removeAll()
        return lines
    }

    mutating func reset() {
        self = PlainLineSplitter(offset: 0, maxLineBytes: maxLineBytes)
    }

    private mutating func deliver(_ range: Range<Int>, rawEnd: Int, into lines: inout [Line]) {
        var start = range.lowerBound
        var end = range.upperBound
        if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        while end - start > maxLineBytes {
            let cut = cutPoint(from: start)
            lines.append(Line(text: String(decoding: buffer[start..<(start + cut)], as: UTF8.self), resumeOffset: offset, endsLine: false))
            deliveredInLine += Int64(cut)
            start += cut
        }
        offset += deliveredInLine + Int64(rawEnd - start)
        deliveredInLine = 0
        lines.append(Line(text: String(decoding: buffer[start..<end], as: UTF8.self), resumeOffset: offset, endsLine: true))
    }

    /// The limit, moved back to the start of a UTF-8 sequence it would cut.
    private func cutPoint(from start: Int) -> Int {
        var cut = maxLineBytes
        var steps = 0
        while steps < 3, start + cut < buffer.count, buffer[start + cut] & 0xC0 == 0x80 {
            cut -= 1
            steps += 1
        }
        if start + cut < buffer.count, buffer[start + cut] & 0xC0 == 0x80 { cut = maxLineBytes }
        return cut
    }
}
