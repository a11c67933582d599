#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DVICLogFormat
import DVICProtocol

/// An open file read from a given offset onwards: the I/O shell around `LogFileParser` (demo
/// logs) or `PlainLineSplitter` (plain log files).
///
/// Reads with `pread` at its own offset, so a truncation is seen as the size dropping below it.
final class FileTail {
    enum Format: Sendable {
        case demo
        case plain
    }

    /// What one read produced.
    struct Output {
        var records: [DVICProtocol.LogRecord] = []
        /// The offset to resume from once the first `recordCount` records are stored (the others
        /// are pieces of a line that has not ended).
        var checkpoint: (recordCount: Int, offset: Int64)?
        /// The header was read (or read again after a truncation).
        var headerChanged = false
        var truncated = false
        /// The read budget ran out before the end of the file.
        var hitBudget = false

        mutating func append(_ other: Output, offsetBy count: Int) {
            records += other.records
            if let checkpoint = other.checkpoint { self.checkpoint = (checkpoint.recordCount + count, checkpoint.offset) }
            headerChanged = headerChanged || other.headerChanged
            truncated = truncated || other.truncated
            hitBudget = hitBudget || other.hitBudget
        }
    }

    let path: String
    let format: Format
    let identity: FileIdentity
    private var descriptor: CInt
    private var parser: LogFileParser
    private var splitter: PlainLineSplitter
    /// Where the next `pread` starts.
    private(set) var readOffset: Int64
    /// The size seen by the last read.
    private(set) var lastSize: Int64
    private(set) var header: LogFileHeader?
    private(set) var headerError: LogFileHeaderError?
    /// Set by a truncation: the first line read afterwards is most likely a record, not a header.
    private var afterTruncation = false

    /// Opens `path`. Resumes at `position` when it names this very file (same device and inode)
    /// and lies within it, else starts at 0.
    init?(path: String, format: Format, position: FilePosition?, maxLineBytes: Int = LogFileParser.defaultMaxLineBytes) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        guard let status = FileSystem.status(descriptor: descriptor), status.isRegularFile else {
            closeDescriptor(descriptor)
            return nil
        }
        self.path = path
        self.format = format
        self.descriptor = descriptor
        self.identity = status.identity
        var start: Int64 = 0
        if let position, position.identity == status.identity, position.offset <= status.size {
            start = position.offset
        }
        self.readOffset = start
        self.lastSize = status.size
        self.parser = LogFileParser(offset: start, maxLineBytes: maxLineBytes)
        self.splitter = PlainLineSplitter(offset: start, maxLineBytes: maxLineBytes)
        if format == .demo && start > 0 {
            // Resuming past the header: read it on its own, for the demo's identity.
            readHeaderLine(maxLineBytes: maxLineBytes)
        }
    }

    deinit {
        if descriptor >= 0 { closeDescriptor(descriptor) }
    }

    var isOpen: Bool { descriptor >= 0 }
    var atEndOfFile: Bool { readOffset >= lastSize }
    var hasPartialLine: Bool {
        format == .demo ? parser.bufferedByteCount > 0 : splitter.bufferedByteCount > 0
    }
    /// The offset just past the last complete line handed on.
    var consumedOffset: Int64 { format == .demo ? parser.offset : splitter.offset }

    func close() {
        if descriptor >= 0 {
            closeDescriptor(descriptor)
            descriptor = -1
        }
    }

    /// Reads what was appended since the last call, up to `budget` bytes.
    func read(now: Int64, budget: Int, scratch: inout [UInt8]) -> Output {
        var output = Output()
        guard descriptor >= 0, let status = FileSystem.status(descriptor: descriptor) else { return output }
        if status.size < readOffset {
            // copytruncate or `> file`: start over; whatever was appended beyond our offset before
            // the truncation is lost to every reader.
            readOffset = 0
            parser.reset()
            splitter.reset()
            afterTruncation = true
            output.truncated = true
        }
        lastSize = status.size
        if scratch.count < 65_536 { scratch = [UInt8](repeating: 0, count: 65_536) }
        var consumed = 0
        while consumed < budget {
            let want = min(scratch.count, budget - consumed)
            let count = scratch.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress!, want, off_t(readOffset))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            consumed += count
            readOffset += Int64(count)
            process(scratch[0..<count], now: now, into: &output)
        }
        lastSize = max(lastSize, readOffset)
        if consumed >= budget { output.hitBudget = true }
        return output
    }

    /// Hands on a last line that has no newline: the file is finished (its writer exited, or it
    /// was rotated away).
    func finish(now: Int64) -> Output {
        var output = Output()
        switch format {
        case .demo:
            for event in parser.finish(now: now) { handle(event, now: now, into: &output) }
        case .plain:
            for line in splitter.finish() { handle(line, now: now, into: &output) }
        }
        return output
    }

    private func process(_ bytes: ArraySlice<UInt8>, now: Int64, into output: inout Output) {
        switch format {
        case .demo:
            for event in parser.feed(bytes, now: now) { handle(event, now: now, into: &output) }
        case .plain:
            for line in splitter.feed(bytes) { handle(line, now: now, into: &output) }
        }
    }

    private func handle(_ event: LogFileParser.Event, now: Int64, into output: inout Output) {
        switch event.kind {
        case .header(let header):
            self.header = header
            headerError = nil
            output.headerChanged = true
        case .invalidHeader(let error, let line):
            if !afterTruncation && header == nil { headerError = error }
            // Never lose a line: a first line that is no header is kept as a record, parsed as one
            // when it is one (as after a copytruncate).
            output.records.append(
                Self.protocolRecord(DVICLogFormat.LogRecord.parse(line: line) ?? DVICLogFormat.LogRecord(timestamp: now, level: .info, message: line)))
        case .record(let record):
            output.records.append(Self.protocolRecord(record))
        }
        afterTruncation = false
        if event.endsLine { output.checkpoint = (output.records.count, event.resumeOffset) }
    }

    private func handle(_ line: PlainLineSplitter.Line, now: Int64, into output: inout Output) {
        output.records.append(DVICProtocol.LogRecord(timestamp: now, severity: .info, text: line.text))
        if line.endsLine { output.checkpoint = (output.records.count, line.resumeOffset) }
    }

    static func protocolRecord(_ record: DVICLogFormat.LogRecord) -> DVICProtocol.LogRecord {
        DVICProtocol.LogRecord(
            timestamp: record.timestamp, severity: Severity(rawValue: UInt8(record.level.rawValue)) ?? .info,
            text: record.message)
    }

    private func readHeaderLine(maxLineBytes: Int) {
        var collected: [UInt8] = []
        var offset: Int64 = 0
        while collected.count <= maxLineBytes {
            guard let chunk = try? FileSystem.readBytes(descriptor, count: 16_384, at: offset), !chunk.isEmpty else { return }
            if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                collected += chunk[..<newline]
                if collected.last == UInt8(ascii: "\r") { collected.removeLast() }
                do throws(LogFileHeaderError) {
                    header = try LogFileHeader.parse(bytes: collected)
                } catch {
                    headerError = error
                }
                return
            }
            collected += chunk
            offset += Int64(chunk.count)
        }
    }
}

/// `close(2)`, reachable from types that have a `close()` of their own.
func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}
